"""`bulkedit serve`: the review page on loopback (issue 31). Imported only when the command
runs: aiohttp.web and Jinja2 are not for `--help`."""
