"""`make bench`: a large synthetic site served by gunicorn and measured with wrk."""
