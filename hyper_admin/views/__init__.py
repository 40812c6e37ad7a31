"""Thin views: parse the request, ask options/query, render. One module per screen."""
