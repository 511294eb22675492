"""Realistic Chinese article pages for `scripts/bench` (seeded, reproducible).

A page looks like a Chinese portal's article: navigation, breadcrumbs, a
meta line with a view counter and an update stamp, one main article, a
sidebar of hot articles, comments with relative times, inline scripts and a
JSON state blob, a footer. Sizes run from 10 to 150 KB (median about 77 KB).
About 30% are GBK (declared in a meta tag, as `gbk` or `gb2312`), about 10%
declare no charset at all (half UTF-8, half GBK: the daemon must detect it),
the rest are UTF-8 with a meta charset.

Two kinds of edit, applied in place (a new mtime, so a new ETag and
Last-Modified from the static server):

* `edit_article`: a real edit of the article text (a sentence rewritten and
  a paragraph added) — a change the daemon must report;
* `edit_noise`: only the view counter, the update stamp, the comment times
  and the JSON state change — a change the daemon must NOT report.

The page's parameters are a function of (seed, index, version), so an edit
regenerates the page with one knob turned and everything else identical.
"""

import json
import os
import random

VENDORS = ["百度", "阿里巴巴", "腾讯", "字节跳动", "智谱AI", "月之暗面", "百川智能", "科大讯飞", "华为", "商汤科技",
           "MiniMax", "零一万物", "深度求索", "昆仑万维", "出门问问", "OpenAI", "谷歌", "Meta", "Anthropic", "微软"]
MODELS = ["文心一言", "通义千问", "混元", "豆包", "ChatGLM", "GLM-4", "Kimi", "百川2", "星火", "盘古",
          "日日新", "abab6.5", "Yi-34B", "DeepSeek-V2", "天工", "序列猴子", "GPT-4", "Gemini", "Llama 3", "Claude 3"]
TOPICS = ["大模型", "多模态", "推理能力", "长文本", "智能体", "算力", "开源生态", "行业应用", "安全对齐", "端侧部署",
          "训练数据", "商业化", "API价格", "评测基准", "代码生成"]
VERBS = ["发布了", "升级了", "开源了", "推出了", "公布了", "更新了", "下调了", "上线了", "展示了", "宣布了"]
OBJECTS = ["新一代基座模型", "面向企业的解决方案", "最新的技术报告", "多模态理解能力", "超长上下文版本",
           "代码助手", "开发者平台", "推理加速方案", "行业大模型", "训练框架"]
CLAUSES = [
    "参数规模达到{n}亿",
    "上下文窗口扩展到{k}K tokens",
    "在多项中文评测中取得领先成绩",
    "推理成本较上一代下降了{p}%",
    "已经服务超过{m}万家企业客户",
    "支持图像、音频和视频的联合理解",
    "训练数据覆盖{t}万亿tokens",
    "将在{mo}月向全部开发者开放",
    "API调用价格降至每千tokens {c}分",
    "在数学推理和代码生成方面明显增强",
]
NAV = ["首页", "新闻", "科技", "人工智能", "财经", "汽车", "手机", "数码", "创投", "专栏", "视频", "直播", "活动", "招聘",
       "关于我们", "联系我们", "投稿", "APP下载", "English", "登录", "注册"]
COMMENTERS = ["网友", "用户", "读者", "科技爱好者", "匿名用户", "AI观察员", "程序员", "投资人"]


def sentence(r: random.Random) -> str:
    vendor = r.choice(VENDORS)
    model = r.choice(MODELS)
    clause = r.choice(CLAUSES).format(
        n=r.randint(7, 18000), k=r.choice([8, 32, 128, 200, 1000]), p=r.randint(10, 90), m=r.randint(1, 500),
        t=r.randint(1, 20), mo=r.randint(1, 12), c=r.randint(1, 12))
    pattern = r.randrange(4)
    if pattern == 0:
        return f"{vendor}{r.choice(VERBS)}{model}的{r.choice(OBJECTS)}，{clause}。"
    if pattern == 1:
        return f"据了解，{model}在{r.choice(TOPICS)}方面持续投入，{clause}，业内人士认为这将加速{r.choice(TOPICS)}的落地。"
    if pattern == 2:
        return f"{r.choice(TOPICS)}仍是{vendor}今年的重点，其{r.choice(OBJECTS)}{clause}。"
    return f"分析师指出，{vendor}与{r.choice(VENDORS)}在{r.choice(TOPICS)}上的竞争日趋激烈，{model}{clause}。"


def paragraph(r: random.Random) -> str:
    return "".join(sentence(r) for _ in range(r.randint(2, 6)))


def target_kb(r: random.Random) -> float:
    # Triangular on 10..150 KB with its mode at 72: median about 77 KB.
    return r.triangular(10, 150, 72)


class Spec:
    """What a page is, before any edit."""

    def __init__(self, seed: int, index: int):
        r = random.Random(seed * 1_000_003 + index)
        self.index = index
        self.seed = seed
        u = r.random()
        if u < 0.30:
            self.encoding, self.declared = "gbk", r.choice(["gbk", "gb2312"])
        elif u < 0.35:
            self.encoding, self.declared = "gbk", None
        elif u < 0.40:
            self.encoding, self.declared = "utf-8", None
        else:
            self.encoding, self.declared = "utf-8", "utf-8"
        self.target_bytes = int(target_kb(r) * 1024)
        self.title = f"{r.choice(VENDORS)}{r.choice(VERBS)}{r.choice(MODELS)}{r.choice(OBJECTS)}（第{index}期）"
        self.layout = r.choice(["article", "div.article-content", "div#artibody", "div.post-content"])


def render(spec: Spec, article_version: int = 0, noise_version: int = 0) -> bytes:
    """The page's bytes in its encoding. `article_version` > 0 is a real
    edit of the article; `noise_version` > 0 changes only counters/stamps."""
    r = random.Random(spec.seed * 7_919 + spec.index)  # the page's stable furniture
    # The article's own generator: furniture sized by noise values (a longer
    # view counter in the JSON state) must not shift the article's text.
    a = random.Random(spec.seed * 6_151 + spec.index)
    n = random.Random(spec.seed * 104_729 + spec.index * 31 + noise_version)  # noise values
    # Byte budget: the article takes about 35%, scripts 20%, the rest is
    # furniture (nav, sidebars, comments). Chinese is 3 bytes in UTF-8, 2 in GBK.
    width = 3 if spec.encoding == "utf-8" else 2
    budget = spec.target_bytes

    views = n.randint(100, 999_999)
    stamp = f"2026-{n.randint(1, 11):02d}-{n.randint(1, 28):02d} {n.randint(0, 23):02d}:{n.randint(0, 59):02d}"
    charset = f'<meta charset="{spec.declared}">' if spec.declared else ""
    head = [
        "<!DOCTYPE html>", "<html lang=\"zh-CN\">", "<head>", charset,
        f"<title>{spec.title}_科技频道</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="author" content="{r.choice(COMMENTERS)}{r.randint(1, 99)}">',
        '<link rel="stylesheet" href="/static/css/main.css?v=20261201">',
        "<style>body{font-family:sans-serif}.nav a{margin:0 4px}.hot li{line-height:1.6}</style>",
    ]
    state = {
        "article": {"id": spec.index, "views": views, "updated": stamp, "tags": r.sample(TOPICS, 3)},
        "recommend": [{"id": r.randint(1, 10**6), "title": sentence(r)[:30], "views": n.randint(1, 99999)}
                      for _ in range(8)],
    }
    scripts_budget = budget * 0.20
    script_parts = []
    size = 0
    while size < scripts_budget:
        blob = json.dumps(state, ensure_ascii=False)
        part = f"<script>window.__INITIAL_STATE__=window.__INITIAL_STATE__||[];window.__INITIAL_STATE__.push({blob});" \
               f"(function(){{var t={n.randint(1, 10**9)};if(window.track){{window.track('pv',t)}}}})();</script>"
        script_parts.append(part)
        size += len(part.encode("utf-8"))
        state["recommend"].append({"id": r.randint(1, 10**6), "title": sentence(r)[:30], "views": n.randint(1, 9999)})
    head.extend(script_parts[:1])
    head.append("</head>")

    body = ["<body>", '<div class="header"><div class="nav">']
    body.extend(f'<a href="/channel/{i}">{name}</a>' for i, name in enumerate(NAV))
    body.append("</div></div>")
    body.append(f'<div class="breadcrumb"><a href="/">首页</a> &gt; <a href="/tech">科技</a> &gt; '
                f'<a href="/ai">人工智能</a></div>')

    # The article: stable paragraphs; a real edit rewrites one sentence and adds a paragraph.
    article_chars = int(budget * 0.35 / width)
    paras = []
    count = 0
    while count < article_chars:
        p = paragraph(a)
        paras.append(p)
        count += len(p)
    if article_version > 0:
        e = random.Random(spec.seed * 15_485_863 + spec.index * 131 + article_version)
        at = e.randrange(len(paras))
        paras[at] = f"【更新{article_version}】" + sentence(e) + paras[at][len(paras[at]) // 2:]
        paras.insert(e.randrange(len(paras) + 1), f"编者注（第{article_version}次修订）：" + paragraph(e))
    open_tag, close_tag = {
        "article": ("<article>", "</article>"),
        "div.article-content": ('<div class="article-content">', "</div>"),
        "div#artibody": ('<div id="artibody">', "</div>"),
        "div.post-content": ('<div class="post-content">', "</div>"),
    }[spec.layout]
    body.append('<div class="main"><div class="left">')
    body.append(f"<h1>{spec.title}</h1>")
    body.append(open_tag)
    # The byline sits inside the article, as on most portals: the noise
    # rules (not furniture removal) must drop its counter and stamp.
    body.append(f'<div class="info"><span class="source">{a.choice(VENDORS)}科技</span> · '
                f'<span class="time">更新于 {stamp}</span> · <span class="views">阅读 {views}</span></div>')
    body.extend(f"<p>{p}</p>" for p in paras)
    body.append(close_tag)
    body.append('<div class="share">分享到：微信 微博 QQ空间</div>')

    # Comments with relative times (noise), until the furniture budget is spent.
    body.append('<div class="comments" id="comments"><h3>网友评论</h3><ul>')
    furniture_budget = budget - (sum(len(s.encode("utf-8")) for s in script_parts) + count * width + 3000)
    comments_budget = furniture_budget * 0.6
    used = 0
    while used < comments_budget:
        c = (f'<li class="comment"><span class="user">{r.choice(COMMENTERS)}{r.randint(1, 9999)}</span>'
             f'<span class="time">{n.randint(1, 59)}分钟前</span><p>{sentence(r)}</p>'
             f'<span class="like">赞 {n.randint(0, 999)}</span></li>')
        body.append(c)
        used += len(c) * width // 2
    body.append("</ul></div></div>")

    # Sidebar: hot articles and a tag cloud.
    body.append('<div class="right"><div class="hot"><h3>热门文章</h3><ul>')
    used = 0
    while used < furniture_budget * 0.4:
        li = f'<li><a href="/a/{r.randint(1, 10**6)}.html">{sentence(r)[:28]}</a> <span>{n.randint(1, 999)}阅读</span></li>'
        body.append(li)
        used += len(li) * width // 2
    body.append("</ul></div></div></div>")
    body.extend(script_parts[1:])
    body.append('<div class="footer"><p>© 2008-2026 科技频道 版权所有</p><p>京ICP备12345678号</p></div>')
    body.append("</body></html>")
    html = "\n".join(head + body)
    return html.encode(spec.encoding, errors="replace")


def write(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def generate(out_dir: str, pages: int, seed: int) -> list:
    """Writes `pages` pages as out_dir/a/N.html; returns their specs."""
    os.makedirs(os.path.join(out_dir, "a"), exist_ok=True)
    specs = [Spec(seed, i) for i in range(pages)]
    for s in specs:
        write(os.path.join(out_dir, "a", f"{s.index}.html"), render(s))
    return specs


if __name__ == "__main__":
    import argparse
    import statistics

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    specs = generate(a.out, a.pages, a.seed)
    sizes = [os.path.getsize(os.path.join(a.out, "a", f"{s.index}.html")) for s in specs]
    print(f"{len(specs)} pages: {min(sizes) // 1024}–{max(sizes) // 1024} KB, median {statistics.median(sizes) / 1024:.0f} KB, "
          f"{sum(s.encoding == 'gbk' for s in specs)} GBK, {sum(s.declared is None for s in specs)} without a charset")
