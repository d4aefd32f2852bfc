"""The site's URLs plus one page that fails, to see the 500 page as a visitor would."""

from django.urls import path

from cs_platform.urls import handler404  # noqa: F401
from cs_platform.urls import urlpatterns as site_urlpatterns


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *site_urlpatterns]
