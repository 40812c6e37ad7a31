// The stored (or the system's) theme, applied before first paint: base.html loads this file
// in <head> without `defer`, so it runs before <body> is parsed and no page flashes light
// before turning dark. A file rather than an inline script: the admin's Content-Security-Policy
// allows no inline script. admin.js owns the toggle.
try {
  document.documentElement.dataset.theme = localStorage.getItem("hyper-admin-theme") ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
} catch (e) {
  // Storage refused (a privacy mode, a sandboxed frame): the CSS follows the system's theme.
}
// The browser's time zone, for the server to show times with a zone (timestamptz) in it
// (hyper_admin.i18n.current_time_zone). Sent with every later request; an IANA name only.
try {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (/^[A-Za-z0-9_+\/-]{1,64}$/.test(zone) && document.cookie.indexOf("hyper_admin_tz=" + zone) < 0) {
    document.cookie = "hyper_admin_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  }
} catch (e) {
  // No Intl time zone: times are shown in UTC, and say so.
}
