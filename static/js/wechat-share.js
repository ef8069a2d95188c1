/*
 * WeChat share card (微信分享卡片): configures the JS-SDK for this page.
 *
 * The page renders this script only when a WeChat official account is
 * configured, right after the JS-SDK, with the card in data attributes (no
 * inline script, so a Content-Security-Policy without 'unsafe-inline' works):
 *   data-wechat-config  the signing endpoint (/share/wechat/config/)
 *   data-title, data-desc, data-link (canonical URL), data-img-url
 *
 * WeChat checks the signature against the address the page was loaded from,
 * including the parameters it appends to shared links (?from=timeline&…), so
 * that address (location.href without #) is what the server signs — not the
 * canonical URL. The card's link is the canonical URL.
 *
 * On any failure it does nothing: WeChat then builds the card from the page's
 * own metadata. Plain ES5 and XMLHttpRequest for older in-app browsers.
 */
(function () {
    "use strict";

    var script = document.currentScript ||
        document.querySelector("script[data-wechat-config]");
    if (!script || !/MicroMessenger/i.test(navigator.userAgent)) {
        return;
    }
    var wx = window.wx;
    if (!wx || typeof wx.config !== "function") {
        return;
    }
    var data = script.dataset || {};
    var card = {
        title: data.title || document.title,
        desc: data.desc || "",
        link: data.link || location.href.split("#")[0],
        imgUrl: data.imgUrl || ""
    };
    var url = location.href.split("#")[0];

    function configure(config) {
        if (!config || !config.appId || !config.signature) {
            return;
        }
        wx.config({
            debug: false,
            appId: config.appId,
            timestamp: config.timestamp,
            nonceStr: config.nonceStr,
            signature: config.signature,
            jsApiList: ["updateAppMessageShareData", "updateTimelineShareData"]
        });
        wx.ready(function () {
            try {
                wx.updateAppMessageShareData(card);
                wx.updateTimelineShareData(card);
            } catch (ignore) {
                // Older clients lack these; their own card stays.
            }
        });
        if (typeof wx.error === "function") {
            wx.error(function () {
                // Invalid signature or an unlisted domain: keep the page's card.
            });
        }
    }

    try {
        var request = new XMLHttpRequest();
        request.open(
            "GET",
            data.wechatConfig + "?url=" + encodeURIComponent(url),
            true
        );
        request.setRequestHeader("Accept", "application/json");
        request.timeout = 8000;
        request.onload = function () {
            if (request.status !== 200) {
                return;
            }
            try {
                configure(JSON.parse(request.responseText));
            } catch (ignore) {
                // A broken answer: no custom card.
            }
        };
        request.send();
    } catch (ignore) {
        // No XMLHttpRequest or a blocked request: no custom card.
    }
}());
