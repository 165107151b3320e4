from django.http import HttpResponse


def hello(request):
    return HttpResponse("Bonjour.\n", content_type="text/plain; charset=utf-8")
