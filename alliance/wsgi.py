import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")

django_application = get_wsgi_application()

# The public pages that change only with the counts are answered from a cache in
# front of Django while still current (core/pagecache.py). Imported once the
# apps are loaded: it reads the counts through the signatures app.
from django.conf import settings  # noqa: E402

from core.pagecache import PageCache  # noqa: E402

application = PageCache(django_application) if settings.PAGE_CACHE else django_application
