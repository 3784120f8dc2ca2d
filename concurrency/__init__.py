"""Where CPU-heavy calls run: off gevent's hub when a gevent server runs this process."""
