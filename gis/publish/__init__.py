"""Static snapshot publishing (issue 15, item 1): the public zones as files any CDN can serve."""
