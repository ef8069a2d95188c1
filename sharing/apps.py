"""Sharing a page: its QR code (qr.py), the poster (海报: posters.py draws it,
content.py decides what goes on it, store.py keeps it per revision), the WeChat
JS-SDK share card (wechat.py), the ``/share/…`` routes (urls.py, views.py), the
share panel and share metadata tags (``sharing_tags``, ``share_meta_tags``) and
``install_jweixin``. No models: posters live in the default storage."""

from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "分享"

    def ready(self):
        from portal import security

        from . import wechat

        # The JS-SDK's host joins the public pages' policy while WeChat is on.
        security.add_public_sources(wechat.csp_sources)
