"""Twenty common XSS payloads. Each, if it ran, would set ``window.__xss`` or open a dialog."""

PAYLOADS = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=\"window.__xss=2\">",
    "<svg onload=window.__xss=3>",
    "\"><script>window.__xss=4</script>",
    "'><img src=x onerror=window.__xss=5>",
    "<iframe srcdoc=\"<script>parent.__xss=6</script>\">",
    "<body onload=window.__xss=7>",
    "<details open ontoggle=window.__xss=8>",
    "<input autofocus onfocus=window.__xss=9>",
    "<video><source onerror=window.__xss=10>",
    "javascript:window.__xss=11",
    "<a href=\"javascript:window.__xss=12\">x</a>",
    "</title><script>window.__xss=13</script>",
    "</textarea><script>alert(14)</script>",
    "<scr<script>ipt>alert(15)</script>",
    "<math><style><img src=x onerror=alert(16)>",
    "[link](javascript:alert(17))",
    "<object data=\"javascript:alert(18)\">",
    "\" onmouseover=\"alert(19)\" autofocus onfocus=\"alert(19)",
    "<marquee onstart=alert(20)>",
]

assert len(PAYLOADS) == 20 and all(len(p) <= 60 for p in PAYLOADS)
