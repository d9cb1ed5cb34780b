// tiersync federation dashboard: the state of a node's subtree (the hub: the whole country) —
// a map coloured by the share of nodes serving the latest release, drill-down province → city
// → county → school, a release's propagation, the nodes that lag, fail, reject or are down and
// why, storage, and usage by resource, provider, region and day.
// Plain JS, no framework, no build step; charts by Apache ECharts (vendored in
// webui/vendor/echarts/, served as /federation/echarts.min.js). Nothing from another origin.
//
// Reads, from the same origin (every field treated as possibly missing):
//   GET /v1/federation/summary?region=      totals and one group per child region (or node)
//   GET /v1/federation/nodes?region=&health=&after=&limit=
//   GET /v1/federation/propagation?release=&region=&bucket=
//   GET /v1/federation/usage?from=&to=&region=&by=resource|provider|region|day
// The place is kept in the URL hash: #region=3301 (and &node=NAME with a node's detail open);
// no region: the serving node's own subtree. Everything refreshes every 10 s.
// All text is set with textContent (never innerHTML): names come from the nodes.
//
// Tests (tests/browser/dashboard.test.mjs) find the map's ECharts instance with
// echarts.getInstanceByDom(#map) and click tiles at convertToPixel() of their cell;
// window.tiersyncDashboard exposes the state for them to wait on.
'use strict';

(function () {
  // ---- The schematic map. ----
  // Not a geographic map, on purpose: a map of China published in China needs map review
  // approval (审图号, under the Surveying and Mapping Law and the 地图管理条例), and boundary
  // geometry carries its own licence questions. A tile map — one square per provincial-level
  // division at an approximate grid position — needs neither, and renders with no external
  // asset. Below province level, the cities (then counties) are tiles in code order.
  // [GB/T 2260 code, short name, column, row]
  const PROVINCES = [
    ['23', '黑龙江', 7, 0],
    ['65', '新疆', 0, 1], ['15', '内蒙古', 3, 1], ['11', '北京', 4, 1], ['12', '天津', 5, 1],
    ['21', '辽宁', 6, 1], ['22', '吉林', 7, 1],
    ['62', '甘肃', 1, 2], ['64', '宁夏', 2, 2], ['14', '山西', 3, 2], ['13', '河北', 4, 2],
    ['37', '山东', 5, 2],
    ['54', '西藏', 0, 3], ['63', '青海', 1, 3], ['61', '陕西', 2, 3], ['41', '河南', 3, 3],
    ['34', '安徽', 4, 3], ['32', '江苏', 5, 3], ['31', '上海', 6, 3],
    ['51', '四川', 1, 4], ['50', '重庆', 2, 4], ['42', '湖北', 3, 4], ['36', '江西', 4, 4],
    ['33', '浙江', 5, 4],
    ['53', '云南', 1, 5], ['52', '贵州', 2, 5], ['43', '湖南', 3, 5], ['35', '福建', 4, 5],
    ['71', '台湾', 6, 5],
    ['45', '广西', 2, 6], ['44', '广东', 3, 6],
    ['46', '海南', 2, 7], ['82', '澳门', 3, 7], ['81', '香港', 4, 7],
  ];
  const PROVINCE_COLUMNS = 8;
  const PROVINCE_ROWS = 8;

  const HEALTH = {
    ok: ['正常', 'OK'],
    lagging: ['滞后', 'Lagging'],
    failing: ['同步失败', 'Failing'],
    rejecting: ['拒收数据', 'Rejecting'],
    down: ['失联', 'Down'],
  };
  const PROBLEM_ORDER = ['down', 'rejecting', 'failing', 'lagging'];
  const TIERS = {
    national: ['国家级', 'national'],
    province: ['省级', 'province'],
    city: ['市级', 'city'],
    county: ['县级', 'county'],
    school: ['学校', 'school'],
  };
  const LEVELS = {
    province: ['各省', 'Provinces'],
    city: ['各市', 'Cities'],
    county: ['各区县', 'Counties'],
    node: ['节点', 'Nodes'],
  };
  const REFRESH_MS = 10000;
  const NO_NODES = '#c9ced6';
  const RAMP = [[0, [215, 48, 39]], [0.25, [253, 174, 97]], [0.5, [254, 224, 139]],
    [0.75, [166, 217, 106]], [1, [26, 152, 80]]];
  const FONT = 'system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';

  const state = {
    region: null,   // from the hash; null: the serving node's own subtree
    node: '',       // the node whose detail is open
    days: 30,       // usage range
    summary: null,  // the last summary of this region
    records: new Map(),  // node name -> its record from /v1/federation/nodes
    tiles: [],
    errors: [],
    shown: {},      // section -> the place whose data it shows
    refreshes: 0,   // completed refreshes (tests wait on it)
  };
  let generation = 0;
  let timer = 0;
  const charts = {};
  window.tiersyncDashboard = { state, drill, openNode, charts };

  // ---- Small helpers. ----
  const $ = (id) => document.getElementById(id);
  const arr = (v) => (Array.isArray(v) ? v : []);
  const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
  const str = (v) => (typeof v === 'string' ? v : v == null ? '' : String(v));
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'onclick') e.addEventListener('click', v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c == null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  // Chinese first, English beside.
  const bi = (zh, en) => [zh + ' ', el('span', { class: 'en' }, en)];
  const biText = (pair) => pair[0] + ' ' + pair[1];
  function fill(target, ...children) {
    target.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
  }
  const empty = (zh, en) => el('p', { class: 'empty' }, bi(zh, en));

  function fmtInt(n) { return num(n).toLocaleString('en-US'); }
  function fmtBytes(n) {
    n = num(n);
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }
  // Rounded down: 100% only when every node is there.
  function fmtShare(share) {
    return share == null ? '—' : Math.floor(Math.max(0, Math.min(1, share)) * 100) + '%';
  }
  function fmtTime(unix) {
    if (!num(unix)) return '—';
    const d = new Date(num(unix) * 1000 + 8 * 3600 * 1000).toISOString();
    return d.slice(0, 10) + ' ' + d.slice(11, 19) + ' (UTC+8)';
  }
  function fmtAgo(unix) {
    const now = num(obj(state.summary).now) || Date.now() / 1000;
    if (!num(unix)) return '—';
    const s = Math.max(0, Math.round(now - num(unix)));
    if (s < 90) return `${s} 秒前 ${s} s ago`;
    if (s < 5400) return `${Math.round(s / 60)} 分钟前 ${Math.round(s / 60)} min ago`;
    if (s < 172800) return `${Math.round(s / 3600)} 小时前 ${Math.round(s / 3600)} h ago`;
    return `${Math.round(s / 86400)} 天前 ${Math.round(s / 86400)} d ago`;
  }
  function dayOf(unix) { return new Date(unix * 1000 + 8 * 3600 * 1000).toISOString().slice(0, 10); }

  function shareColor(share) {
    if (share == null) return NO_NODES;
    const s = Math.max(0, Math.min(1, share));
    for (let i = 1; i < RAMP.length; i++) {
      if (s <= RAMP[i][0]) {
        const [a, ca] = RAMP[i - 1];
        const [b, cb] = RAMP[i];
        const t = (s - a) / (b - a);
        const c = ca.map((x, k) => Math.round(x + (cb[k] - x) * t));
        return '#' + c.map((x) => x.toString(16).padStart(2, '0')).join('');
      }
    }
    return '#1a9850';
  }
  function textColorOn(hex) {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 ? '#1f2328' : '#ffffff';
  }
  function healthOf(group) {
    for (const h of ['down', 'rejecting', 'failing', 'lagging', 'ok']) if (num(group[h]) > 0) return h;
    return '';
  }
  function healthBadge(h) {
    const pair = HEALTH[h] || [h || '未知', h ? '' : 'unknown'];
    return el('span', { class: 'health ' + (HEALTH[h] ? h : ''), 'data-health': h }, bi(pair[0], pair[1]));
  }

  // ---- The API. ----
  async function getJSON(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v != null) q.set(k, v);
    const url = path + (q.toString() ? '?' + q : '');
    let response;
    try {
      response = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    } catch (e) {
      throw new Error('无法连接服务器 cannot reach the server');
    }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const why = str(obj(body).error || obj(body).message);
      throw new Error(`HTTP ${response.status}${why ? ': ' + why : ''}`);
    }
    if (!body || typeof body !== 'object') throw new Error('不是 JSON 的回答 not a JSON answer');
    return body;
  }

  // All the pages of /v1/federation/nodes (at most `pages` of them).
  async function getNodes(params, pages) {
    const out = [];
    let after = null;
    for (let i = 0; i < pages; i++) {
      const page = await getJSON('/v1/federation/nodes', { ...params, after, limit: 500 });
      for (const n of arr(page.nodes)) {
        const record = obj(n);
        out.push(record);
        if (str(record.name)) state.records.set(str(record.name), record);
      }
      after = page.next_after;
      if (after == null || after === '') return { nodes: out, more: false };
    }
    return { nodes: out, more: true };
  }

  // ---- Navigation: the hash holds the place. ----
  function readHash() {
    const h = new URLSearchParams(location.hash.replace(/^#/, ''));
    const region = h.has('region') ? h.get('region') : null;
    if (region !== state.region) {
      state.summary = null;
      state.tiles = [];
    }
    state.region = region;
    state.node = h.get('node') || '';
  }
  function setHash(region, node) {
    const h = new URLSearchParams();
    if (region != null) h.set('region', region);
    if (node) h.set('node', node);
    location.hash = h.toString();
  }
  function drill(region) { setHash(str(region), ''); }
  function openNode(name) {
    const region = state.summary ? str(state.summary.region) : state.region;
    setHash(region, str(name));
  }

  // ---- Charts. ----
  function chart(id) {
    if (typeof window.echarts !== 'object') return null;
    if (!charts[id]) {
      charts[id] = window.echarts.init($(id), null, { renderer: 'canvas' });
      if (id === 'map') charts[id].on('click', onTileClick);
    }
    return charts[id];
  }
  // Replaces what a chart shows. Not setOption's notMerge: that recreates the tooltip, and
  // ECharts then re-shows the old one (the pointer still over the chart) into a removed
  // element, a page error; the tooltip is kept and everything else replaced.
  function draw(c, option) {
    c.setOption({ title: [], dataZoom: [], legend: [], xAxis: [], yAxis: [], ...option },
      { replaceMerge: ['title', 'dataZoom', 'legend', 'grid', 'xAxis', 'yAxis', 'series'] });
  }
  // An empty chart saying why (or the words alone when ECharts is missing).
  function noChart(id, zh, en) {
    const c = chart(id);
    if (!c) { fill($(id), empty(zh, en)); return; }
    draw(c, { grid: [], series: [], title: { text: zh + ' ' + en, left: 'center', top: 'middle',
      textStyle: { fontSize: 13, fontWeight: 'normal', color: '#6a737d', fontFamily: FONT } } });
  }
  const axisBytes = { axisLabel: { formatter: (v) => fmtBytes(v) } };
  const baseOption = () => ({
    animation: false,
    textStyle: { fontFamily: FONT },
    tooltip: { trigger: 'axis', confine: true },
    legend: { top: 0, textStyle: { fontSize: 11 } },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
  });

  // ---- The tile map. ----
  function buildTiles(s) {
    const level = str(s.level);
    const groups = arr(s.groups).map(obj);
    const tile = (g, fallbackName, col, row) => {
      const nodes = num(g.nodes);
      const share = nodes > 0
        ? (typeof g.share === 'number' && Number.isFinite(g.share) ? g.share : num(g.latest) / nodes)
        : null;
      return {
        region: str(g.region), node: level === 'node' ? str(g.node) : '',
        name: str(g.name) || str(g.node) || fallbackName || str(g.region),
        col, row, nodes, share, latest: num(g.latest),
        ok: num(g.ok), lagging: num(g.lagging), failing: num(g.failing),
        rejecting: num(g.rejecting), down: num(g.down), health: healthOf(g),
        color: shareColor(share),
      };
    };
    if (level === 'province') {
      const byCode = new Map();
      for (const g of groups) byCode.set(str(g.region).slice(0, 2), g);
      const tiles = PROVINCES.map(([code, short, col, row]) => {
        const t = tile(byCode.get(code) || { region: code }, short, col, row);
        t.label = short;  // the short name fits a tile: 浙江, not 浙江省
        t.region = code;
        return t;
      });
      return { tiles, columns: PROVINCE_COLUMNS, rows: PROVINCE_ROWS };
    }
    const sorted = groups.slice().sort((a, b) =>
      str(a.region).localeCompare(str(b.region)) || str(a.node).localeCompare(str(b.node)));
    const columns = Math.max(3, Math.min(10, Math.ceil(Math.sqrt(sorted.length * 1.6))));
    const rows = Math.max(2, Math.ceil(sorted.length / columns));
    const tiles = sorted.map((g, i) => tile(g, '', i % columns, Math.floor(i / columns)));
    for (const t of tiles) t.label = t.name;
    return { tiles, columns, rows };
  }

  function renderMap() {
    const s = state.summary;
    const level = str(s.level);
    const { tiles, columns, rows } = buildTiles(s);
    state.tiles = tiles;
    const box = $('map');
    box.dataset.region = str(s.region);
    box.dataset.level = level;
    const levelName = LEVELS[level] || ['', level];
    fill($('map-title'), str(s.region_name) || '全国', ' · ', bi(levelName[0], levelName[1]));
    const c = chart('map');
    if (!c) return;
    if (tiles.length === 0) {
      noChart('map', '此地区没有节点', 'No nodes in this region');
      return;
    }
    // Square cells; below province level the map is only as tall as its rows, and node
    // tiles are wider for their names.
    const width = c.getWidth();
    const cap = level === 'node' ? 170 : 120;
    if (level !== 'province') {
      const fit = Math.max(30, Math.min((width - 8) / columns, cap));
      const want = Math.round(Math.min(560, Math.max(160, fit * rows + 12)));
      if (Math.abs(box.clientHeight - want) > 1) {
        box.style.height = want + 'px';
        c.resize();
      }
    } else if (box.style.height) {
      box.style.height = '';
      c.resize();
    }
    const height = c.getHeight();
    const cell = Math.max(20, Math.min((width - 8) / columns, (height - 8) / rows, cap));
    const grid = {
      left: Math.max(0, (width - cell * columns) / 2), top: Math.max(0, (height - cell * rows) / 2),
      width: cell * columns, height: cell * rows,
    };
    const font = Math.round(Math.max(10, Math.min(level === 'node' ? 12 : 14, cell / 6)));
    draw(c, {
      animation: false,
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: 'item', confine: true, formatter: (p) => tileTooltip(tiles[p.dataIndex]) },
      grid,
      xAxis: { type: 'value', min: -0.5, max: columns - 0.5, show: false },
      yAxis: { type: 'value', min: -0.5, max: rows - 0.5, inverse: true, show: false },
      series: [{
        type: 'custom',
        clip: false,
        encode: { x: 0, y: 1, tooltip: 2 },
        data: tiles.map((t) => ({
          value: [t.col, t.row, t.share == null ? -1 : t.share],
          name: t.name, region: t.region, node: t.node, nodes: t.nodes, color: t.color,
        })),
        renderItem: (params, api) => {
          const t = tiles[params.dataIndex];
          const at = api.coord([api.value(0), api.value(1)]);
          const size = api.size([1, 1]);
          const w = size[0] * 0.92;
          const h = size[1] * 0.92;
          const open = t.node && t.node === state.node;
          const clickable = t.nodes > 0;
          const second = t.node
            ? biText(HEALTH[t.health] || ['', ''])
            : (t.nodes > 0 ? `${fmtShare(t.share)} · ${t.nodes}` : '—');
          return {
            type: 'group',
            children: [{
              type: 'rect',
              shape: { x: at[0] - w / 2, y: at[1] - h / 2, width: w, height: h, r: 4 },
              style: { fill: t.color, stroke: open ? '#173f6e' : '#ffffff', lineWidth: open ? 3 : 1 },
              cursor: clickable ? 'pointer' : 'default',
            }, {
              type: 'text',
              style: {
                x: at[0], y: at[1], text: t.label + '\n' + second, align: 'center',
                verticalAlign: 'middle', fill: textColorOn(t.color), lineHeight: font + 4,
                font: `${font}px ${FONT}`, width: w - 6, overflow: 'truncate',
              },
              cursor: clickable ? 'pointer' : 'default',
            }],
          };
        },
      }],
    });
    box.dataset.tiles = String(tiles.length);
  }

  function tileTooltip(t) {
    if (!t) return '';
    const esc = (x) => str(x).replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
    const lines = [`<b>${esc(t.name)}</b>${t.region ? ' (' + esc(t.region) + ')' : ''}`];
    if (t.node && t.node !== t.name) lines.push(esc(t.node));
    if (!t.nodes) {
      lines.push('无节点 No nodes');
    } else {
      lines.push(`最新版本 On latest: ${t.latest}/${t.nodes} (${fmtShare(t.share)})`);
      for (const h of ['ok', 'lagging', 'failing', 'rejecting', 'down']) {
        if (t[h]) lines.push(`${biText(HEALTH[h])}: ${t[h]}`);
      }
    }
    return lines.join('<br>');
  }

  function onTileClick(params) {
    const d = obj(params && params.data);
    if (!num(d.nodes)) return;
    if (d.node) openNode(d.node);
    else if (d.region != null) drill(d.region);
  }

  // ---- Header, breadcrumb, totals, storage. ----
  function renderHeader() {
    const s = obj(state.summary);
    const self = obj(s.self);
    const tier = TIERS[str(self.tier)] || [str(self.tier), ''];
    fill($('self'), '本节点 ', el('span', { class: 'en' }, 'This node'), ': ',
      el('b', {}, str(self.name) || '—'), ' · ', bi(tier[0], tier[1]),
      str(self.region) ? ` · ${str(self.region)}` : '');
    const latest = obj(s.latest);
    $('latest').textContent = str(latest.release)
      ? str(latest.release) + (latest.version != null ? ` (v${str(latest.version)})` : '') : '—';
    $('asof').textContent = fmtTime(s.now);
  }

  function renderBreadcrumb() {
    const s = obj(state.summary);
    let path = arr(s.path).map(obj);
    if (path.length === 0) path = [{ region: str(s.region), name: str(s.region_name) || '全国' }];
    // Above the serving node's own region (a province's 全国) is not its to show: no link.
    const root = str(obj(s.self).region).replace(/(00)+$/, '');
    const items = [];
    path.forEach((p, i) => {
      const here = i === path.length - 1 && !state.node;
      const name = str(p.name) || str(p.region) || '全国';
      if (items.length) items.push(el('span', { class: 'sep' }, '›'));
      if (here) {
        items.push(el('span', { class: 'here', 'data-region': str(p.region), 'aria-current': 'page' }, name));
      } else if (!str(p.region).startsWith(root)) {
        items.push(el('span', { class: 'above' }, name));
      } else {
        items.push(el('a', { href: '#region=' + encodeURIComponent(str(p.region)), 'data-region': str(p.region) }, name));
      }
    });
    if (state.node) {
      items.push(el('span', { class: 'sep' }, '›'));
      items.push(el('span', { class: 'here', 'data-node': state.node, 'aria-current': 'page' }, state.node));
    }
    fill($('breadcrumb'), items);
  }

  function renderTotals() {
    const t = obj(obj(state.summary).totals);
    const nodes = num(t.nodes);
    const kpi = (key, zh, en, value, extra) => el('div', {
      class: `kpi ${key}${num(value) === 0 && key !== 'nodes' ? ' zero' : ''}`, 'data-testid': 'total-' + key,
      'data-value': num(value),
    }, el('div', { class: 'v' }, fmtInt(value), extra || ''), el('div', { class: 'l' }, bi(zh, en)));
    fill($('totals'),
      kpi('nodes', '节点', 'Nodes', nodes),
      kpi('latest', '最新版本', 'On latest', t.latest,
        nodes ? el('span', { class: 'sub' }, fmtShare(num(t.latest) / nodes)) : ''),
      kpi('ok', ...HEALTH.ok, t.ok),
      kpi('lagging', ...HEALTH.lagging, t.lagging),
      kpi('failing', ...HEALTH.failing, t.failing),
      kpi('rejecting', ...HEALTH.rejecting, t.rejecting),
      kpi('down', ...HEALTH.down, t.down));
    const meter = (used, of) => {
      const f = of > 0 ? Math.min(1, used / of) : 0;
      return el('div', { class: 'bar-meter' },
        el('i', { class: f > 0.9 ? 'high' : '', style: `width:${(f * 100).toFixed(1)}%` }));
    };
    const fsUsed = num(t.fs_size_bytes) - num(t.fs_avail_bytes);
    fill($('storage-total'),
      el('div', {}, bi('存储', 'Store'), ': ', fmtBytes(t.store_bytes),
        num(t.quota_bytes) ? ` / ${fmtBytes(t.quota_bytes)} ` : ' ',
        num(t.quota_bytes) ? bi('配额', 'quota') : ''),
      num(t.quota_bytes) ? meter(num(t.store_bytes), num(t.quota_bytes)) : '',
      el('div', {}, bi('磁盘', 'Disks'), ': ', fmtBytes(fsUsed), ' / ', fmtBytes(t.fs_size_bytes),
        ' ', bi('已用', 'used')),
      num(t.fs_size_bytes) ? meter(fsUsed, num(t.fs_size_bytes)) : '');
  }

  function renderStorage() {
    const groups = arr(obj(state.summary).groups).map(obj).filter((g) => num(g.nodes) > 0);
    const c = chart('storage');
    if (!c) return;
    if (groups.length === 0) { noChart('storage', '暂无数据', 'No data'); return; }
    const names = groups.map((g) => str(g.name) || str(g.node) || str(g.region));
    const many = names.length > 12;
    const bar = (name, values, color) => ({ name, type: 'bar', data: values, itemStyle: { color },
      barMaxWidth: 18 });
    draw(c, {
      ...baseOption(),
      tooltip: { trigger: 'axis', confine: true, valueFormatter: (v) => fmtBytes(v) },
      grid: { left: 8, right: 16, top: 32, bottom: many ? 36 : 8, containLabel: true },
      xAxis: { type: 'category', data: names,
        axisLabel: { interval: 0, rotate: names.length > 6 ? 35 : 0, fontSize: 11 } },
      yAxis: { type: 'value', ...axisBytes },
      dataZoom: many ? [{ type: 'slider', height: 14, bottom: 4, startValue: 0, endValue: 11 }] : [],
      series: [
        bar('已用存储 Store', groups.map((g) => num(g.store_bytes)), '#1558a8'),
        bar('配额 Quota', groups.map((g) => num(g.quota_bytes)), '#8fb3de'),
        bar('磁盘已用 Disk used', groups.map((g) => num(g.fs_size_bytes) - num(g.fs_avail_bytes)), '#e8590c'),
        bar('磁盘容量 Disk size', groups.map((g) => num(g.fs_size_bytes)), '#c9ced6'),
      ],
    });
  }

  // ---- Nodes: the problems, a county's table, one node's detail. ----
  function nodeRelease(n) {
    const latest = obj(obj(state.summary).latest);
    const release = str(n.release) || '—';
    const on = str(latest.release) && str(n.release) === str(latest.release);
    return [el('span', { 'data-testid': 'release' }, release),
      n.version != null ? el('span', { class: 'sub' }, 'v' + str(n.version)) : '',
      str(n.release) && str(latest.release)
        ? el('span', { class: 'tag' + (on ? '' : ' behind') }, on ? '最新 latest' : '落后 behind') : ''];
  }
  function why(n) {
    const zh = str(n.why_zh);
    const en = str(n.why);
    return el('div', { class: 'why' }, zh || en || '—', zh && en ? el('span', { class: 'en' }, en) : '');
  }

  function renderProblems(list, more) {
    const rank = (h) => { const i = PROBLEM_ORDER.indexOf(h); return i < 0 ? 9 : i; };
    const problems = list.filter((n) => str(n.health) && str(n.health) !== 'ok')
      .sort((a, b) => rank(str(a.health)) - rank(str(b.health)) || str(a.name).localeCompare(str(b.name)));
    if (problems.length === 0) {
      fill($('problems'), empty('所有节点正常', 'Every node is OK'));
      return;
    }
    const rows = problems.map((n) => el('tr', {
      class: 'clickable' + (str(n.name) === state.node ? ' open' : ''), 'data-testid': 'problem',
      'data-node': str(n.name), 'data-health': str(n.health), onclick: () => openNode(str(n.name)),
    }, el('td', {}, el('b', {}, str(n.name)), el('div', { class: 'sub' }, str(n.region_name) || str(n.region))),
    el('td', {}, healthBadge(str(n.health))), el('td', {}, why(n)), el('td', {}, nodeRelease(n))));
    fill($('problems'),
      el('p', { class: 'sub' }, `${problems.length}${more ? '+' : ''} 个节点 nodes`),
      el('div', { class: 'scroll' }, el('table', {},
        el('thead', {}, el('tr', {}, el('th', {}, bi('节点', 'Node')), el('th', {}, bi('状态', 'Health')),
          el('th', {}, bi('原因', 'Why')), el('th', {}, bi('发布', 'Release')))),
        el('tbody', {}, rows))));
  }

  function renderNodeTable(list) {
    const box = $('node-table');
    if (str(obj(state.summary).level) !== 'node') { box.hidden = true; fill(box); return; }
    box.hidden = false;
    const rows = list.slice().sort((a, b) => str(a.name).localeCompare(str(b.name))).map((n) => el('tr', {
      class: 'clickable' + (str(n.name) === state.node ? ' open' : ''), 'data-testid': 'node-row',
      'data-node': str(n.name), 'data-health': str(n.health), onclick: () => openNode(str(n.name)),
    }, el('td', {}, el('b', {}, str(n.name)), el('div', { class: 'sub' }, str(n.tier))),
    el('td', {}, nodeRelease(n)), el('td', {}, healthBadge(str(n.health))), el('td', {}, why(n)),
    el('td', { class: 'num' }, fmtBytes(n.store_bytes)), el('td', {}, fmtAgo(n.seen_at))));
    fill(box, el('h3', {}, bi('本地区节点', 'Nodes here')),
      rows.length ? el('div', { class: 'scroll' }, el('table', {},
        el('thead', {}, el('tr', {}, el('th', {}, bi('节点', 'Node')), el('th', {}, bi('发布', 'Release')),
          el('th', {}, bi('状态', 'Health')), el('th', {}, bi('原因', 'Why')),
          el('th', { class: 'num' }, bi('存储', 'Store')), el('th', {}, bi('最近报告', 'Last report')))),
        el('tbody', {}, rows))) : empty('没有节点', 'No nodes'));
  }

  function renderDetail() {
    const card = $('detail-card');
    if (!state.node) { card.hidden = true; return; }
    card.hidden = false;
    const box = $('detail');
    box.dataset.node = state.node;
    const n = state.records.get(state.node);
    if (!n) { fill(box, empty(`未找到节点 ${state.node}`, `No node ${state.node} here`)); return; }
    const row = (zh, en, ...value) => [el('dt', {}, bi(zh, en)), el('dd', {}, value)];
    const fsUsed = num(n.fs_size_bytes) - num(n.fs_avail_bytes);
    const sources = arr(n.sources).map(obj);
    fill(box,
      el('dl', { class: 'detail-grid' },
        row('节点', 'Node', el('b', {}, str(n.name))),
        row('层级', 'Tier', ...(TIERS[str(n.tier)] ? bi(...TIERS[str(n.tier)]) : [str(n.tier) || '—'])),
        row('地区', 'Region', `${str(n.region_name)} ${str(n.region)}`.trim() || '—'),
        row('上级', 'Parent', str(n.parent) || '—'),
        row('发布', 'Release', el('span', { 'data-testid': 'node-release' }, nodeRelease(n))),
        row('切换于', 'Switched', fmtTime(n.switched_at)),
        row('状态', 'Health', healthBadge(str(n.health)), str(n.why_zh) || str(n.why) ? why(n) : ''),
        row('最近报告', 'Last report', fmtAgo(n.seen_at), ' · ', fmtTime(n.seen_at)),
        row('同步', 'Sync', n.sync_ok === false ? bi('失败', 'failed') : bi('正常', 'ok'),
          str(n.last_error) ? el('div', { class: 'why' }, str(n.last_error)) : ''),
        row('拒收', 'Rejections', fmtInt(n.rejections),
          str(n.last_rejection) ? el('div', { class: 'why' }, str(n.last_rejection)) : ''),
        row('存储', 'Store', fmtBytes(n.store_bytes), num(n.quota_bytes) ? ` / ${fmtBytes(n.quota_bytes)} ` : '',
          num(n.quota_bytes) ? bi('配额', 'quota') : ''),
        row('磁盘', 'Disk', `${fmtBytes(fsUsed)} / ${fmtBytes(n.fs_size_bytes)}`),
        row('软件', 'Software', str(n.software) || '—')),
      el('h3', {}, bi('数据源', 'Sources')),
      sources.length ? el('table', { 'data-testid': 'node-sources' },
        el('thead', {}, el('tr', {}, el('th', {}, bi('名称', 'Name')), el('th', {}, bi('状态', 'State')),
          el('th', { class: 'num' }, bi('失败次数', 'Failures')), el('th', {}, bi('最近错误', 'Last error')))),
        el('tbody', {}, sources.map((src) => el('tr', {},
          el('td', {}, el('b', {}, str(src.name)), el('div', { class: 'sub' }, str(src.url))),
          el('td', {}, healthBadge(src.ok === false ? 'down' : 'ok')),
          el('td', { class: 'num' }, fmtInt(src.failures)), el('td', {}, str(src.last_error) || '—')))))
        : empty('无', 'None'));
  }

  // ---- Propagation and usage. ----
  function renderPropagation(p) {
    const c = chart('propagation');
    const points = arr(obj(p).points).map(obj).filter((x) => num(x.at))
      .sort((a, b) => num(a.at) - num(b.at));
    const total = num(obj(p).total);
    const last = points.length ? num(points[points.length - 1].nodes) : 0;
    $('prop-release').textContent = p ? `${str(p.release)} · ${last}/${total} 节点 nodes` : '';
    if (!c) return;
    if (!p || points.length === 0) { noChart('propagation', '暂无传播数据', 'No propagation data'); return; }
    const data = points.map((x) => [num(x.at) * 1000, num(x.nodes)]);
    const now = num(obj(state.summary).now) * 1000;
    if (now > data[data.length - 1][0]) data.push([now, last]);
    draw(c, {
      ...baseOption(),
      legend: { show: false },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', min: 0, max: Math.max(total, last, 1), minInterval: 1 },
      series: [{
        name: `${str(p.release)} 节点 nodes`, type: 'line', step: 'end', showSymbol: false, data,
        lineStyle: { color: '#1558a8', width: 2 }, areaStyle: { color: 'rgba(21,88,168,0.15)' },
        markLine: total ? { silent: true, symbol: 'none', lineStyle: { color: '#1a9850', type: 'dashed' },
          label: { formatter: `全部 all ${total}`, position: 'insideEndTop' }, data: [{ yAxis: total }] } : undefined,
      }],
    });
  }

  function usageRange() {
    const now = num(obj(state.summary).now) || Math.floor(Date.now() / 1000);
    return { from: dayOf(now - (state.days - 1) * 86400), to: dayOf(now) };
  }
  const usageName = (r) => str(r.title) || str(r.key) || '—';
  const byTotal = (a, b) => num(b.views) + num(b.downloads) - num(a.views) - num(a.downloads);

  function usageBars(id, rows, limit) {
    const c = chart(id);
    if (!c) return;
    const top = rows.slice().sort(byTotal).slice(0, limit).reverse();
    if (top.length === 0) { noChart(id, '暂无数据', 'No data'); return; }
    draw(c, {
      ...baseOption(),
      grid: { left: 8, right: 28, top: 32, bottom: 8, containLabel: true },  // room for the last label
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: top.map(usageName),
        axisLabel: { width: 140, overflow: 'truncate', fontSize: 11 } },
      series: [
        { name: '浏览 Views', type: 'bar', stack: 'u', data: top.map((r) => num(r.views)), itemStyle: { color: '#1558a8' }, barMaxWidth: 16 },
        { name: '下载 Downloads', type: 'bar', stack: 'u', data: top.map((r) => num(r.downloads)), itemStyle: { color: '#f0a30a' }, barMaxWidth: 16 },
      ],
    });
  }

  function renderUsage(u) {
    const { from, to } = usageRange();
    const totals = obj(obj(u.resource).totals);
    fill($('usage-range'), `${from} – ${to} · `, bi('浏览', 'views'), ` ${fmtInt(totals.views)} · `,
      bi('下载', 'downloads'), ` ${fmtInt(totals.downloads)}`);
    const resources = arr(obj(u.resource).rows).map(obj).sort(byTotal).slice(0, 10);
    fill($('usage-resources'), resources.length ? el('div', { class: 'hscroll' }, el('table', {},
      el('thead', {}, el('tr', {}, el('th', { class: 'num' }, '#'), el('th', {}, bi('资源', 'Resource')),
        el('th', {}, bi('提供单位', 'Provider')), el('th', { class: 'num' }, bi('浏览', 'Views')),
        el('th', { class: 'num' }, bi('下载', 'Downloads')))),
      el('tbody', {}, resources.map((r, i) => el('tr', { 'data-testid': 'usage-resource' },
        el('td', { class: 'num' }, i + 1), el('td', {}, usageName(r)), el('td', {}, str(r.provider) || '—'),
        el('td', { class: 'num' }, fmtInt(r.views)), el('td', { class: 'num' }, fmtInt(r.downloads)))))))
      : empty('暂无数据', 'No data'));
    usageBars('usage-providers', arr(obj(u.provider).rows).map(obj), 10);
    usageBars('usage-regions', arr(obj(u.region).rows).map(obj), 12);

    const c = chart('usage-days-chart');
    if (!c) return;
    const byDay = new Map(arr(obj(u.day).rows).map(obj).map((r) => [str(r.key), r]));
    const days = [];
    for (let t = Date.parse(from + 'T00:00:00Z'); t <= Date.parse(to + 'T00:00:00Z'); t += 86400000) {
      days.push(new Date(t).toISOString().slice(0, 10));
    }
    const line = (name, key, color) => ({ name, type: 'line', showSymbol: false, itemStyle: { color },
      data: days.map((d) => num(obj(byDay.get(d))[key])) });
    draw(c, {
      ...baseOption(),
      xAxis: { type: 'category', data: days, axisLabel: { fontSize: 11 } },
      yAxis: { type: 'value', minInterval: 1 },
      series: [line('浏览 Views', 'views', '#1558a8'), line('下载 Downloads', 'downloads', '#f0a30a')],
    });
  }

  // ---- Errors: one banner, both languages. ----
  const WHAT = {
    summary: ['概况', 'summary'],
    problems: ['异常节点', 'problem nodes'],
    nodes: ['节点列表', 'node list'],
    propagation: ['发布传播', 'propagation'],
    usage: ['使用情况', 'usage'],
    echarts: ['图表库', 'chart library'],
  };
  function renderErrors(errors) {
    state.errors = errors.map(([what, e]) => `${what}: ${e.message}`);
    const banner = $('banner');
    if (errors.length === 0) { banner.hidden = true; fill(banner); return; }
    banner.hidden = false;
    fill(banner, el('p', {}, bi(state.summary ? '部分数据无法获取，显示的可能不是最新数据。'
      : '无法获取联邦数据。', state.summary ? 'Some data could not be loaded; what is shown may be out of date.'
      : 'The federation data could not be loaded.')),
    errors.map(([what, e]) => el('p', { 'data-testid': 'banner-item' },
      `${(WHAT[what] || [what, what])[0]} ${(WHAT[what] || [what, what])[1]}: ${e.message}`)));
  }

  // A section whose data could not be fetched, and has none of this place to keep showing.
  function unavailable(what) {
    const zh = '无法获取';
    const en = 'Could not be loaded';
    if (what === 'problems') fill($('problems'), empty(zh, en));
    if (what === 'nodes') {
      $('node-table').hidden = false;
      fill($('node-table'), empty(zh, en));
    }
    if (what === 'propagation') {
      $('prop-release').textContent = '';
      noChart('propagation', zh, en);
    }
    if (what === 'usage') {
      fill($('usage-range'));
      fill($('usage-resources'), empty(zh, en));
      for (const id of ['usage-providers', 'usage-regions', 'usage-days-chart']) noChart(id, zh, en);
    }
  }

  function renderWithoutSummary() {
    for (const what of ['problems', 'propagation', 'usage']) unavailable(what);
    state.shown = {};
    fill($('totals'), empty('暂无数据', 'No data'));
    fill($('storage-total'));
    fill($('breadcrumb'), el('a', { href: '#', 'data-region': '' }, '返回本节点 '),
      el('span', { class: 'en' }, 'Back to this node'));
    $('map').style.height = '';
    if (charts.map) charts.map.resize();
    for (const id of ['map', 'storage']) noChart(id, '暂无数据', 'No data');
    renderNodeTable([]);
    $('detail-card').hidden = true;
  }

  // ---- One refresh: the summary, then the rest in parallel. ----
  async function refresh() {
    clearTimeout(timer);
    const mine = ++generation;
    const errors = [];
    if (typeof window.echarts !== 'object') errors.push(['echarts', new Error('/federation/echarts.min.js')]);
    try {
      const s = await getJSON('/v1/federation/summary', state.region == null ? {} : { region: state.region });
      if (mine !== generation) return;
      state.summary = s;
    } catch (e) {
      if (mine !== generation) return;
      errors.push(['summary', e]);
    }
    const s = state.summary;
    if (!s) {
      renderWithoutSummary();
      finish(mine, errors);
      return;
    }
    renderHeader();
    renderBreadcrumb();
    renderTotals();
    renderMap();
    renderStorage();
    const region = str(s.region);
    const release = str(obj(s.latest).release);
    // A section that fails keeps what it showed of this place (the banner says it may be out
    // of date), or says it could not be loaded.
    const range = usageRange();
    const guard = (what, work) => {
      const place = what === 'usage' ? `${region} ${range.from} ${range.to}` : region;
      return work().then(() => { state.shown[what] = place; }, (e) => {
        if (mine !== generation) return;
        errors.push([what, e]);
        if (state.shown[what] !== place) unavailable(what);
      });
    };
    const usage = {};
    await Promise.all([
      guard('problems', async () => {
        const r = await getNodes({ region, health: PROBLEM_ORDER.join(',') }, 1);
        if (mine === generation) renderProblems(r.nodes, r.more);
      }),
      guard('nodes', async () => {
        if (str(s.level) !== 'node' && !(state.node && !state.records.has(state.node))) {
          renderNodeTable([]);
          return;
        }
        const r = await getNodes({ region }, 10);
        if (mine === generation) renderNodeTable(r.nodes);
      }),
      guard('propagation', async () => {
        const p = release
          ? await getJSON('/v1/federation/propagation', { release, region, bucket: 60 }) : null;
        if (mine === generation) renderPropagation(p);
      }),
      guard('usage', async () => {
        await Promise.all(['resource', 'provider', 'region', 'day'].map(async (by) => {
          usage[by] = await getJSON('/v1/federation/usage', { ...range, region, by });
        }));
        if (mine === generation) renderUsage(usage);
      }),
    ]);
    if (mine !== generation) return;
    renderDetail();
    finish(mine, errors);
  }
  function finish(mine, errors) {
    renderErrors(errors);
    state.refreshes += 1;
    if (mine === generation) timer = setTimeout(refresh, REFRESH_MS);
  }

  function start() {
    readHash();
    window.addEventListener('hashchange', () => {
      readHash();
      if (state.summary) { renderBreadcrumb(); renderDetail(); }
      refresh();
    });
    window.addEventListener('resize', () => {
      for (const c of Object.values(charts)) c.resize();
      if (state.summary) renderMap();
    });
    $('detail-close').addEventListener('click', () => openNode(''));
    for (const b of document.querySelectorAll('#usage-days button')) {
      b.addEventListener('click', () => {
        state.days = Number(b.dataset.days) || 30;
        for (const o of document.querySelectorAll('#usage-days button')) o.classList.toggle('on', o === b);
        refresh();
      });
    }
    for (const id of ['totals', 'problems', 'usage-resources']) fill($(id), empty('加载中…', 'Loading…'));
    refresh();
  }
  start();
})();
