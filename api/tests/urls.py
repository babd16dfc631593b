"""The project's URLs plus one that answers 429 the way a rate limit in front of a view
would (issue 5 adds the real ones): for the JSON errors test."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from clinic.urls import urlpatterns as project_urls


def limited(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("Too many requests", status=429, content_type="text/html")
    response["Retry-After"] = "60"
    return response


urlpatterns = [path("api/v1/limited-for-test", limited), *project_urls]
