"""Sharing a page: QR codes, posters (海报) and the WeChat JS-SDK share card."""
