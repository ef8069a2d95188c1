from django.http import Http404


def jssdk_config(request):  # filled in by the WeChat JS-SDK work
    raise Http404
