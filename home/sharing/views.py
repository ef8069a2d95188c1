from django.http import Http404


def qr_svg(request, page_id):  # filled in by the QR/poster work
    raise Http404


qr_png = poster_png = poster_page = qr_svg
