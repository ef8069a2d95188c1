from django.urls import path

from . import views, wechat

app_name = "sharing"

urlpatterns = [
    path("wechat/config/", wechat.jssdk_config, name="wechat_config"),
    path("<int:page_id>/qr.svg", views.qr_svg, name="qr_svg"),
    path("<int:page_id>/qr.png", views.qr_png, name="qr_png"),
    path("<int:page_id>/poster.png", views.poster_png, name="poster_png"),
    path("<int:page_id>/poster/", views.poster_page, name="poster_page"),
]
