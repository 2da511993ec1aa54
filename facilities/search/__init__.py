"""A search request: its parameters, its filters, and the results page around it.

- params.py: the table of search parameters (name, label, parsing, default, hint)
- filters.py: the FilterSet the pages, the CSV and the API filter with
- page.py: the results page's context (panel, chips, errors, cards)
- places.py: the home page's single box ("Jackson, MS") turned into a search
- fallbacks.py: what a search that finds nothing offers instead (never a dead end)

Nothing is imported here, so query helpers can read params.py without loading the rest.
"""
