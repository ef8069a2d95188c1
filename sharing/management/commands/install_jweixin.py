"""Install the optional local copy of WeChat's JS-SDK (jweixin 1.6.0) into
static/js/vendor/, from the npm package ``weixin-js-sdk``.

The file is Tencent's; the npm package's MIT notice is its repackager's, and
Tencent publishes the SDK without a licence that grants redistribution, so the
repository does not carry it (see static/js/vendor/README.md). A deployer who
accepts that installs it once per checkout — never at run time.
"""

import hashlib
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PACKAGE = "weixin-js-sdk@1.6.5"
# sha256 of the package's index.js: the same bytes as the official
# jweixin-1.6.0.js, reformatted and wrapped as a CommonJS module.
INDEX_SHA256 = "dbb0451e1b72d7c2c18095ffd1950d6de464413ce8d343eff8b82865b983ab97"
TARGET = Path("js/vendor/jweixin-1.6.0.js")

HEADER = """\
/* WeChat JS-SDK 1.6.0 (jweixin), (c) Tencent — official copy:
 * https://res.wx.qq.com/open/js/jweixin-1.6.0.js
 * Taken from the npm package {package} (index.js, sha256 {sha}) by
 * `manage.py install_jweixin`; not part of this repository (no redistribution
 * licence from Tencent). The package exports a CommonJS module; the wrapper
 * makes it set window.wx / window.jWeixin like the official file. */
(function () {{
var module = {{ exports: {{}} }};
"""
FOOTER = """
if (module.exports) {
    window.wx = window.jWeixin = module.exports;
}
}());
"""


class Command(BaseCommand):
    help = "把微信 JS-SDK（npm 包 weixin-js-sdk）复制到 static/js/vendor/，本站自托管。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            help="weixin-js-sdk 的 index.js 路径（默认用 npm pack 下载 "
            f"{PACKAGE}）",
        )

    def handle(self, *args, source=None, **options):
        code = Path(source).read_bytes() if source else self.npm_pack()
        digest = hashlib.sha256(code).hexdigest()
        if digest != INDEX_SHA256:
            raise CommandError(
                f"index.js 的 sha256 为 {digest}，与 {PACKAGE} 不符，未安装。"
            )
        target = Path(settings.BASE_DIR) / "static" / TARGET
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            HEADER.format(package=PACKAGE, sha=digest)
            + code.decode("utf-8")
            + FOOTER,
            encoding="utf-8",
        )
        self.stdout.write(self.style.SUCCESS(f"已安装 {target}"))

    def npm_pack(self) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                subprocess.run(
                    ["npm", "pack", PACKAGE, "--pack-destination", tmp],
                    check=True,
                    capture_output=True,
                    text=True,
                )
            except (OSError, subprocess.CalledProcessError) as exc:
                raise CommandError(f"npm pack {PACKAGE} 失败：{exc}") from exc
            tarball = next(Path(tmp).glob("*.tgz"))
            with tarfile.open(tarball) as archive:
                member = archive.extractfile("package/index.js")
                if member is None:
                    raise CommandError(f"{PACKAGE} 中没有 index.js")
                return member.read()
