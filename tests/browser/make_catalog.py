#!/usr/bin/env python3
"""Writes the browser test's publish input (docs/operators/hub.md, `hub publish --input`).

Usage: make_catalog.py OUT_DIR VIDEO_WEBM

OUT_DIR/resources/<id>.json are resource records (docs/formats/catalog.md; chunk_index is
left to the hub) and OUT_DIR/media/<id>/<name> their files: a real, playable WebM video
(the committed fixture), a real PDF made here, and small placeholder files, so that the
catalog has something to browse, search and play. Standard library only.
"""
import hashlib
import json
import os
import shutil
import sys


def make_pdf(pages):
    """A small valid PDF: one line of Helvetica text per page, with a correct xref table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i in range(pages):
        text = f"BT /F1 24 Tf 72 720 Td (tiersync browser test - page {i + 1}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def k12(board, category):
    return {"platform": "k12", "board": board, "category": category}


# (id, title, placements, facets, files as (name, media type, source), extra fields)
# source: "video" (the fixture), "pdf" (made here) or text for a placeholder file.
RESOURCES = [
    ("k12-gushi-video", "第5课 古诗三首 视频", [k12("课程教学", "小学"), k12("课后服务", "经典阅读")],
     {"stage": "小学", "grade": 3, "subject": "语文", "edition": "国家统编", "volume": "三年级上册",
      "lesson": "第5课 古诗三首", "tags": ["古诗", "朗读"]},
     [("lesson.webm", "video/webm", "video")], {"provider": "人民教育出版社"}),
    ("k12-gushi-pdf", "第5课 古诗三首 课后练习", [k12("课程教学", "小学")],
     {"stage": "小学", "grade": 3, "subject": "语文", "edition": "国家统编", "volume": "三年级上册",
      "lesson": "第5课 古诗三首", "tags": ["古诗", "练习"]},
     [("exercises.pdf", "application/pdf", "pdf")], {"provider": "人民教育出版社"}),
    ("k12-fenshu-courseware", "分数的初步认识 课件", [k12("课程教学", "小学")],
     {"stage": "小学", "grade": 3, "subject": "数学", "edition": "人教版", "volume": "三年级上册",
      "lesson": "第8单元 分数的初步认识"},
     [("courseware.pptx",
       "application/vnd.openxmlformats-officedocument.presentationml.presentation",
       "placeholder courseware")], {"provider": "人民教育出版社"}),
    ("k12-fenshu-sheji", "分数的初步认识 教学设计", [k12("课程教学", "小学")],
     {"stage": "小学", "grade": 3, "subject": "数学", "edition": "北师大版", "volume": "三年级下册"},
     [("design.pdf", "application/pdf", "pdf")], {"provider": "北京师范大学出版社"}),
    ("k12-wuli-changdu", "第1节 长度和时间的测量", [k12("课程教学", "初中")],
     {"stage": "初中", "grade": 8, "subject": "物理", "edition": "人教版", "volume": "八年级上册",
      "lesson": "第一章 机械运动"},
     [("lesson.webm", "video/webm", "video"), ("notes.pdf", "application/pdf", "pdf")],
     {"provider": "人民教育出版社"}),
    ("k12-xinli-yangguang", "阳光心态 快乐成长", [k12("专题教育", "心理健康教育")],
     {"tags": ["心理健康"]},
     [("talk.webm", "video/webm", "video")], {"provider": "教育部基础教育司"}),
    ("k12-anquan-fangni", "防溺水安全教育", [k12("专题教育", "生命与安全教育")],
     {"tags": ["安全", "暑期"]},
     [("guide.pdf", "application/pdf", "pdf")], {"provider": "教育部基础教育司", "priority": True}),
    ("k12-xiyouji-daodu", "《西游记》名著导读", [k12("课后服务", "经典阅读")],
     {"stage": "初中", "grade": 7, "subject": "语文", "tags": ["名著", "古典小说"]},
     [("guide.pdf", "application/pdf", "pdf")], {"provider": "国家中小学智慧教育平台"}),
    ("k12-kepu-kejiguan", "中国数字科技馆 在线展厅", [k12("课后服务", "科普教育")],
     {"tags": ["科普"]}, None,
     {"provider": "中国科学技术协会",
      "link": {"url": "https://www.cdstm.cn/", "site": "中国数字科技馆"}}),
    ("higher-gudai-wenxue", "中国古代文学史（一）",
     [{"platform": "higher", "board": "课程服务平台", "category": "文学"}], {},
     [("lecture1.webm", "video/webm", "video")], {"provider": "北京大学"}),
]


def main():
    out, video = sys.argv[1], sys.argv[2]
    pdf = make_pdf(3)
    with open(video, "rb") as f:
        webm = f.read()
    os.makedirs(os.path.join(out, "resources"), exist_ok=True)
    for rid, title, placements, facets, files, extra in RESOURCES:
        record = {"format": "tiersync-resource 1", "id": rid, "title": title,
                  "language": "zh-CN", "origin": "national", "review": "approved",
                  "placements": placements, "retired": False, "priority": False}
        if facets:
            record["facets"] = facets
        record.update(extra)
        if files is not None:
            media = os.path.join(out, "media", rid)
            shutil.rmtree(media, ignore_errors=True)
            os.makedirs(media)
            record["files"] = []
            for name, media_type, source in files:
                data = {"video": webm, "pdf": pdf}.get(source) or source.encode()
                with open(os.path.join(media, name), "wb") as f:
                    f.write(data)
                record["files"].append({"name": name, "media_type": media_type,
                                        "size": len(data),
                                        "sha256": hashlib.sha256(data).hexdigest()})
        with open(os.path.join(out, "resources", rid + ".json"), "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
