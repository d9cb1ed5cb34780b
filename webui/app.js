// tiersync web UI: a single-page catalog browser for a node's teachers and students.
// Plain JS, no framework, nothing from the internet (schools may be offline). Hash routes:
//   #/                                   taxonomy tree (GET /v1/catalog/tree)
//   #/browse?platform=&board=&category=  resources (GET /v1/catalog/search), facet filters
//   #/search?q=                          text search (same list)
//   #/r/<id>                             one resource (GET /v1/catalog/resources/<id>)
//   #/node                               this node (GET /v1/status)
// The JSON shapes are in docs/serving.md. Every field is treated as possibly missing.
// All text is built with textContent (never innerHTML): catalog data is not trusted markup.
'use strict';

(function () {
  // ---- Interface text: every string of the UI, Chinese and English. ----
  const STRINGS = {
    zh: {
      brand: '国家智慧教育资源',
      home: '首页',
      nodeNav: '本节点',
      langSwitch: 'English',
      search: '搜索',
      searchPlaceholder: '搜索资源，如：古诗',
      loading: '加载中…',
      error: '出错了：{0}',
      retry: '重试',
      notFound: '找不到该页面。',
      noResource: '本节点当前的发布版本中没有这个资源。',
      backHome: '返回首页',
      treeTitle: '资源目录',
      treeSummary: '发布版本 {0} · 共 {1} 个资源',
      emptyTree: '本节点还没有可用的资源目录，请稍后再试。',
      allResources: '全部资源',
      searchTitle: '搜索“{0}”',
      resultRange: '第 {0}–{1} 条，共 {2} 条',
      noResults: '没有找到相关资源。',
      prev: '上一页',
      next: '下一页',
      localOnly: '只看本节点已存',
      filterAll: '全部',
      local: '本地已存',
      remote: '未存本地',
      mirrored: '本节点',
      stage: '学段',
      subject: '学科',
      edition: '版本',
      grade: '年级',
      volume: '册次',
      lesson: '课',
      tags: '标签',
      kind_video: '视频',
      kind_pdf: 'PDF 文档',
      kind_courseware: '课件',
      kind_audio: '音频',
      kind_image: '图片',
      kind_link: '外部链接',
      kind_other: '其他',
      provider: '提供单位',
      language: '语言',
      origin: '来源',
      originNational: '国家平台',
      priority: '应急优先',
      withdrawn: '已下架',
      withdrawnNotice: '该资源已于 {0} 下架：{1}',
      placements: '所在栏目',
      files: '文件',
      fileCount: '{0} 个文件',
      mediaType: '类型',
      size: '大小',
      sha256: 'SHA-256',
      download: '下载',
      readOnline: '在线阅读',
      hideReader: '收起',
      openNewWindow: '新窗口打开',
      externalLink: '外部资源',
      openSite: '前往 {0}',
      resolveTitle: '哪些层级存有此资源',
      resolveButton: '查询',
      holdsYes: '有',
      holdsNo: '无',
      holdsUnknown: '无法查询',
      thisNode: '本节点',
      nodeTitle: '本节点状态',
      name: '名称',
      tier: '层级',
      region: '地区',
      release: '当前发布版本',
      version: '元数据版本',
      switchedAt: '切换时间',
      releaseFiles: '文件数',
      lastSync: '最近一次同步',
      lastCheck: '最近一次检查',
      ok: '成功',
      failed: '失败',
      fetched: '下载 {0}',
      from: '来源 {0}',
      noRelease: '尚无可用的发布版本',
      sources: '上游来源',
      healthy: '正常',
      demoted: '暂停使用',
      failures: '失败次数',
      lastError: '最近错误',
      lastOk: '最近成功',
      storage: '存储',
      chunks: '数据块',
      rawBytes: '原始大小',
      storedBytes: '占用空间',
      quota: '配额',
      unlimited: '不限',
      usage: '使用情况',
      today: '今日',
      views: '浏览',
      downloads: '下载',
      last7: '最近 7 天',
      serving: '服务',
      missPolicy: '未存资源',
      miss_proxy: '由本节点向上级获取并缓存',
      miss_redirect: '转到存有该资源的上级',
      catalogResources: '目录资源数',
      localFiles: '本地文件数',
      cache: '缓存',
      cacheLine: '{0} 个文件 · {1} / {2}',
      notReady: '本节点正在进行首次同步，请稍后再试。',
      staleSince: '本节点的资源数据自 {0} 起未能更新（离线宽限期内继续提供）。',
      topResources: '热门资源',
      date: '日期',
      children: '下级节点报告',
      rejections: '最近拒绝的数据',
      refresh: '刷新',
      never: '从未',
      none: '无',
      tier_national: '国家',
      tier_province: '省级',
      tier_city: '市级',
      tier_county: '县级',
      tier_school: '学校',
      grades: ['一年级', '二年级', '三年级', '四年级', '五年级', '六年级', '七年级', '八年级',
        '九年级', '高一', '高二', '高三'],
    },
    en: {
      brand: 'National Smart Education Resources',
      home: 'Home',
      nodeNav: 'This node',
      langSwitch: '中文',
      search: 'Search',
      searchPlaceholder: 'Search resources, e.g. 古诗',
      loading: 'Loading…',
      error: 'Something went wrong: {0}',
      retry: 'Retry',
      notFound: 'No such page.',
      noResource: 'The release this node serves has no such resource.',
      backHome: 'Back to home',
      treeTitle: 'Catalog',
      treeSummary: 'Release {0} · {1} resources',
      emptyTree: 'This node has no catalog to show yet; please try again later.',
      allResources: 'All resources',
      searchTitle: 'Search “{0}”',
      resultRange: '{0}–{1} of {2}',
      noResults: 'No resources found.',
      prev: 'Previous',
      next: 'Next',
      localOnly: 'Only those stored on this node',
      filterAll: 'All',
      local: 'Stored here',
      remote: 'Not stored here',
      mirrored: 'This node',
      stage: 'Stage',
      subject: 'Subject',
      edition: 'Edition',
      grade: 'Grade',
      volume: 'Volume',
      lesson: 'Lesson',
      tags: 'Tags',
      kind_video: 'Video',
      kind_pdf: 'PDF',
      kind_courseware: 'Courseware',
      kind_audio: 'Audio',
      kind_image: 'Image',
      kind_link: 'External link',
      kind_other: 'Other',
      provider: 'Provider',
      language: 'Language',
      origin: 'Origin',
      originNational: 'National platform',
      priority: 'Emergency priority',
      withdrawn: 'Withdrawn',
      withdrawnNotice: 'This resource was withdrawn on {0}: {1}',
      placements: 'Placed in',
      files: 'Files',
      fileCount: '{0} files',
      mediaType: 'Type',
      size: 'Size',
      sha256: 'SHA-256',
      download: 'Download',
      readOnline: 'Read online',
      hideReader: 'Close',
      openNewWindow: 'Open in a new window',
      externalLink: 'External resource',
      openSite: 'Go to {0}',
      resolveTitle: 'Which tiers hold this resource',
      resolveButton: 'Check',
      holdsYes: 'yes',
      holdsNo: 'no',
      holdsUnknown: 'could not ask',
      thisNode: 'This node',
      nodeTitle: 'Node status',
      name: 'Name',
      tier: 'Tier',
      region: 'Region',
      release: 'Current release',
      version: 'Metadata version',
      switchedAt: 'Switched at',
      releaseFiles: 'Files',
      lastSync: 'Last sync',
      lastCheck: 'Last check',
      ok: 'OK',
      failed: 'failed',
      fetched: 'fetched {0}',
      from: 'from {0}',
      noRelease: 'No release yet',
      sources: 'Upstream sources',
      healthy: 'healthy',
      demoted: 'demoted',
      failures: 'Failures',
      lastError: 'Last error',
      lastOk: 'Last success',
      storage: 'Storage',
      chunks: 'Chunks',
      rawBytes: 'Raw size',
      storedBytes: 'On disk',
      quota: 'Quota',
      unlimited: 'unlimited',
      usage: 'Usage',
      today: 'Today',
      views: 'Views',
      downloads: 'Downloads',
      last7: 'Last 7 days',
      serving: 'Serving',
      missPolicy: 'Files not stored here',
      miss_proxy: 'fetched from the tiers above and cached',
      miss_redirect: 'redirected to a tier that holds them',
      catalogResources: 'Resources in the catalog',
      localFiles: 'Files stored here',
      cache: 'Cache',
      cacheLine: '{0} files · {1} of {2}',
      notReady: 'This node is still making its first sync; please try again later.',
      staleSince: 'This node has not been able to update since {0} (served within the offline grace).',
      topResources: 'Top resources',
      date: 'Date',
      children: 'Child reports',
      rejections: 'Recently rejected data',
      refresh: 'Refresh',
      never: 'never',
      none: 'none',
      tier_national: 'National',
      tier_province: 'Province',
      tier_city: 'City',
      tier_county: 'County',
      tier_school: 'School',
      grades: null,  // "Grade N"
    },
  };

  const LANG_KEY = 'tiersync.lang';
  const PAGE_SIZE = 20;
  const FETCH_TIMEOUT_MS = 20000;
  const STATUS_REFRESH_MS = 10000;
  const LOADING_DELAY_MS = 300;
  const FACETS = ['stage', 'subject', 'edition', 'grade'];
  const FILTERS = ['platform', 'board', 'category', 'stage', 'grade', 'subject', 'edition',
    'q', 'local'];

  let lang = pickLanguage();

  function pickLanguage() {
    const fromUrl = new URLSearchParams(location.search).get('lang');
    if (fromUrl === 'zh' || fromUrl === 'en') {
      saveLanguage(fromUrl);
      return fromUrl;
    }
    let saved = null;
    try { saved = localStorage.getItem(LANG_KEY); } catch (e) { /* storage disabled */ }
    return saved === 'en' ? 'en' : 'zh';
  }

  function saveLanguage(l) {
    try { localStorage.setItem(LANG_KEY, l); } catch (e) { /* storage disabled */ }
  }

  // t('key', a, b): the string in the current language with {0}, {1} replaced.
  function t(key, ...args) {
    let s = STRINGS[lang][key];
    if (s === undefined || s === null) s = STRINGS.zh[key];
    if (s === undefined) return key;
    return String(s).replace(/\{(\d)\}/g, (m, i) => (args[i] === undefined ? m : String(args[i])));
  }

  // ---- Formatting. ----
  function num(n) {
    return typeof n === 'number' ? n.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US') : '—';
  }

  function bytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '—';
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }

  function time(seconds) {
    if (typeof seconds !== 'number' || seconds <= 0) return t('never');
    return new Date(seconds * 1000).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB');
  }

  function gradeName(g) {
    const n = Number(g);
    const names = STRINGS[lang].grades;
    if (names && n >= 1 && n <= names.length) return names[n - 1];
    return lang === 'zh' ? String(g) + ' 年级' : 'Grade ' + g;
  }

  function facetValue(key, v) {
    return key === 'grade' ? gradeName(v) : String(v);
  }

  function tierName(tier) {
    const s = STRINGS[lang]['tier_' + tier];
    return s || String(tier || '—');
  }

  // ---- DOM helper: h('a', {href: '#/'}, 'text', child, [children]). ----
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'testid') el.setAttribute('data-testid', v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      if (Array.isArray(c)) append(el, c);
      else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  // A <dl> of [label, value, testid] rows; rows whose value is undefined are left out.
  function fields(rows, testid) {
    const dl = h('dl', { class: 'fields', testid });
    for (const [label, value, id] of rows) {
      if (value === undefined) continue;
      dl.appendChild(h('dt', null, label));
      dl.appendChild(h('dd', { testid: id }, value));
    }
    return dl;
  }

  // ---- API. ----
  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  // The node's metadata expired and it serves within the signed offline grace (or past it):
  // every answer says since when (node/offline_policy.h); shown above the page.
  function showStale(since) {
    const el = document.getElementById('stale');
    if (!el) return;
    el.hidden = !since;
    el.textContent = since ? t('staleSince', since) : '';
  }

  async function api(path) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch(path, { headers: { Accept: 'application/json' }, signal: ctrl.signal });
      // /v1/status is not a users' answer (it carries no such header): it says the same in
      // serving.freshness (updateFooter), and must not hide what the catalog's answers show.
      if (!path.startsWith('/v1/status')) showStale(res.headers.get('X-Tiersync-Stale-Since'));
      let body = null;
      try { body = await res.json(); } catch (e) { /* not JSON */ }
      if (!res.ok) {
        const msg = body && typeof body.error === 'string' ? body.error : 'HTTP ' + res.status;
        throw new ApiError(msg, res.status);
      }
      if (!body || typeof body !== 'object') throw new ApiError('bad answer from ' + path, 0);
      return body;
    } catch (e) {
      if (e.name === 'AbortError') throw new ApiError('timeout: ' + path, 0);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  // The tree is small and needed to name platforms in breadcrumbs; kept per release.
  let treeCache = null;
  function loadTree(fresh) {
    if (!treeCache || fresh) treeCache = api('/v1/catalog/tree').catch((e) => {
      treeCache = null;
      throw e;
    });
    return treeCache;
  }

  function platformName(tree, id) {
    const p = ((tree && tree.platforms) || []).find((x) => x.id === id);
    return p && p.name ? p.name : id;
  }

  // ---- Routing. ----
  const main = () => document.getElementById('main');
  let renderSeq = 0;
  let pageTimer = null;

  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const qi = raw.indexOf('?');
    const path = qi < 0 ? raw : raw.slice(0, qi);
    const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
    return { path, params };
  }

  function hashFor(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, v);
    }
    const s = q.toString();
    return '#' + path + (s ? '?' + s : '');
  }

  function route() {
    const seq = ++renderSeq;
    if (pageTimer) { clearInterval(pageTimer); pageTimer = null; }
    const { path, params } = parseHash();
    // ctx.alive() is false once the user has moved on: a late answer must not overwrite the page.
    const ctx = { alive: () => seq === renderSeq, params };
    // The old page stays until the new one is ready; "loading" shows only if that takes long.
    setTimeout(() => {
      if (!ctx.alive() || ctx.shown) return;
      const root = main();
      clear(root);
      root.appendChild(h('p', { class: 'muted', testid: 'loading' }, t('loading')));
    }, LOADING_DELAY_MS);
    const input = document.getElementById('search-input');
    if (path === '/search') input.value = params.get('q') || '';
    let view;
    if (path === '/' || path === '') view = viewHome(ctx);
    else if (path === '/browse' || path === '/search') view = viewList(ctx);
    else if (path.startsWith('/r/')) view = viewResource(ctx, decodeURIComponent(path.slice(3)));
    else if (path === '/node') view = viewNode(ctx);
    else view = Promise.resolve(notFound());
    view.then((el) => show(ctx, el), (e) => show(ctx, errorBox(e)));
  }

  function show(ctx, el) {
    if (!ctx.alive()) return;
    ctx.shown = true;
    const root = main();
    clear(root);
    root.appendChild(el);
  }

  function errorBox(e) {
    const text = e && e.status === 503 ? t('notReady') :
      t('error', e && e.message ? e.message : String(e));
    return h('div', { class: 'error', testid: 'error', role: 'alert' }, h('p', null, text),
      h('button', { type: 'button', onclick: route }, t('retry')));
  }

  function notFound() {
    return h('div', { class: 'error', testid: 'not-found' }, h('p', null, t('notFound')),
      h('a', { href: '#/' }, t('backHome')));
  }

  // ---- #/ : the taxonomy tree. ----
  async function viewHome(ctx) {
    const tree = await loadTree(true);
    const platforms = Array.isArray(tree.platforms) ? tree.platforms : [];
    const box = h('section', { class: 'tree', testid: 'tree' },
      h('h1', null, t('treeTitle')),
      h('p', { class: 'muted', testid: 'tree-summary' },
        t('treeSummary', tree.release || '—', num(tree.resources))));
    if (platforms.length === 0) box.appendChild(h('p', { testid: 'tree-empty' }, t('emptyTree')));
    for (const p of platforms) box.appendChild(treePlatform(p));
    return box;
  }

  function countBadge(n) {
    return h('span', { class: 'count' }, num(n));
  }

  function treePlatform(p) {
    const boards = Array.isArray(p.boards) ? p.boards : [];
    return h('div', { class: 'platform', testid: 'tree-platform', 'data-platform': p.id },
      h('h2', null, h('a', { href: hashFor('/browse', { platform: p.id }) }, p.name || p.id),
        countBadge(p.count)),
      h('ul', { class: 'boards' }, boards.map((b) => treeBoard(p, b))));
  }

  function treeBoard(p, b) {
    const cats = Array.isArray(b.categories) ? b.categories : [];
    return h('li', { class: 'board' },
      h('a', { href: hashFor('/browse', { platform: p.id, board: b.name }), testid: 'tree-board' },
        b.name, countBadge(b.count)),
      cats.length === 0 ? null : h('ul', { class: 'cats' }, cats.map((c) => h('li', null,
        h('a', {
          href: hashFor('/browse', { platform: p.id, board: b.name, category: c.name }),
          testid: 'tree-category',
        }, c.name, countBadge(c.count))))));
  }

  // ---- #/browse and #/search: a page of resources with facet filters. ----
  async function viewList(ctx) {
    const params = {};
    for (const k of FILTERS) {
      const v = ctx.params.get(k);
      if (v) params[k] = v;
    }
    const offset = Math.max(0, parseInt(ctx.params.get('offset') || '0', 10) || 0);
    const query = new URLSearchParams(params);
    query.set('offset', offset);
    query.set('limit', PAGE_SIZE);
    const [res, tree] = await Promise.all([
      api('/v1/catalog/search?' + query.toString()),
      loadTree(false).catch(() => null),
    ]);
    const path = parseHash().path;
    const box = h('section', { class: 'list', testid: 'results' });
    box.appendChild(breadcrumb(params, tree));
    box.appendChild(h('h1', { testid: 'list-title' }, listTitle(params, tree)));
    box.appendChild(filterBar(path, params, res.facets || {}));
    const items = Array.isArray(res.items) ? res.items : [];
    const total = typeof res.total === 'number' ? res.total : items.length;
    if (items.length === 0) {
      box.appendChild(h('p', { class: 'muted', testid: 'no-results' }, t('noResults')));
      return box;
    }
    box.appendChild(h('p', { class: 'muted', testid: 'result-count', 'data-total': total },
      t('resultRange', offset + 1, offset + items.length, num(total))));
    box.appendChild(h('ul', { class: 'items' }, items.map(resultItem)));
    append(box, [pager(path, params, offset, items.length, total)]);
    return box;
  }

  function listTitle(params, tree) {
    if (params.q) return t('searchTitle', params.q);
    return params.category || params.board ||
      (params.platform ? platformName(tree, params.platform) : t('allResources'));
  }

  function breadcrumb(params, tree) {
    const parts = [h('a', { href: '#/' }, t('home'))];
    if (params.platform) {
      parts.push(' › ', h('a', { href: hashFor('/browse', { platform: params.platform }) },
        platformName(tree, params.platform)));
    }
    if (params.board) {
      parts.push(' › ', h('a', {
        href: hashFor('/browse', { platform: params.platform, board: params.board }),
      }, params.board));
    }
    if (params.category) parts.push(' › ', params.category);
    return h('nav', { class: 'crumbs', testid: 'breadcrumb' }, parts);
  }

  function filterBar(path, params, facets) {
    const bar = h('div', { class: 'filters', testid: 'filters' });
    for (const key of FACETS) {
      const values = facets[key] && typeof facets[key] === 'object' ? Object.entries(facets[key]) : [];
      if (key === 'grade') values.sort((a, b) => Number(a[0]) - Number(b[0]));
      if (values.length === 0 && !params[key]) continue;
      const chips = [chip(path, params, key, null, t('filterAll'), undefined)];
      for (const [v, n] of values) chips.push(chip(path, params, key, v, facetValue(key, v), n));
      bar.appendChild(h('div', { class: 'facet', testid: 'facet-' + key },
        h('span', { class: 'facet-name' }, t(key)), chips));
    }
    const localParams = Object.assign({}, params, { local: params.local ? '' : '1' });
    bar.appendChild(h('label', { class: 'toggle' },
      h('input', {
        type: 'checkbox', testid: 'filter-local', checked: !!params.local,
        onchange: () => { location.hash = hashFor(path, localParams); },
      }), ' ', t('localOnly')));
    return bar;
  }

  function chip(path, params, key, value, label, count) {
    const active = value === null ? !params[key] : params[key] === value;
    const next = Object.assign({}, params, { [key]: value === null ? '' : value });
    return h('a', {
      class: 'chip' + (active ? ' on' : ''), href: hashFor(path, next),
      testid: 'facet-value', 'data-facet': key, 'data-value': value === null ? '' : value,
    }, label, count === undefined ? null : h('span', { class: 'count' }, num(count)));
  }

  function kindBadge(kind) {
    const k = kind || 'other';
    return h('span', { class: 'badge kind-' + k, testid: 'kind' }, t('kind_' + k));
  }

  function withdrawnBadge() {
    return h('span', { class: 'badge withdrawn', testid: 'withdrawn-badge' }, t('withdrawn'));
  }

  function localBadge(local) {
    return h('span', { class: 'badge ' + (local ? 'local' : 'remote'), testid: 'local' },
      local ? t('local') : t('remote'));
  }

  function facetSummary(f) {
    if (!f) return '';
    const parts = [];
    if (f.stage) parts.push(f.stage);
    if (f.grade !== undefined) parts.push(gradeName(f.grade));
    if (f.subject) parts.push(f.subject);
    if (f.edition) parts.push(f.edition);
    if (f.volume) parts.push(f.volume);
    return parts.join(' · ');
  }

  function resultItem(it) {
    return h('li', { class: 'item', testid: 'result-item', 'data-id': it.id },
      h('a', { class: 'title', href: '#/r/' + encodeURIComponent(it.id), testid: 'result-link' },
        it.title || it.id),
      h('div', { class: 'meta' }, kindBadge(it.kind),
        it.withdrawn ? withdrawnBadge() : it.link ? null : localBadge(it.local),
        h('span', null, it.provider || ''),
        h('span', null, facetSummary(it.facets)),
        it.link ? null : h('span', null, bytes(it.bytes))));
  }

  function pager(path, params, offset, shown, total) {
    const prev = offset > 0 ? hashFor(path, Object.assign({}, params,
      { offset: Math.max(0, offset - PAGE_SIZE) })) : null;
    const next = offset + shown < total ? hashFor(path, Object.assign({}, params,
      { offset: offset + PAGE_SIZE })) : null;
    if (!prev && !next) return null;
    return h('nav', { class: 'pager', testid: 'pager' },
      prev ? h('a', { href: prev, testid: 'page-prev' }, '‹ ' + t('prev')) : h('span'),
      next ? h('a', { href: next, testid: 'page-next' }, t('next') + ' ›') : h('span'));
  }

  // ---- #/r/<id>: one resource, its players and which tiers hold it. ----
  async function viewResource(ctx, id) {
    let res;
    try {
      res = await api('/v1/catalog/resources/' + encodeURIComponent(id));
    } catch (e) {
      if (e.status !== 404) throw e;
      return h('div', { class: 'error', testid: 'not-found' }, h('p', null, t('noResource')),
        h('a', { href: '#/' }, t('backHome')));
    }
    const r = res.resource || {};
    const facets = r.facets || {};
    const files = Array.isArray(r.files) ? r.files : [];
    const box = h('article', { class: 'resource', testid: 'resource', 'data-id': r.id });
    box.appendChild(h('h1', { testid: 'resource-title' }, r.title || id));
    box.appendChild(h('div', { class: 'meta' }, kindBadge(r.kind),
      r.withdrawn ? withdrawnBadge() : files.length ? localBadge(r.local) : null,
      r.priority ? h('span', { class: 'badge priority' }, t('priority')) : null));
    box.appendChild(fields([
      [t('provider'), r.provider, 'resource-provider'],
      [t('stage'), facets.stage],
      [t('grade'), facets.grade === undefined ? undefined : gradeName(facets.grade)],
      [t('subject'), facets.subject],
      [t('edition'), facets.edition],
      [t('volume'), facets.volume],
      [t('lesson'), facets.lesson],
      [t('tags'), Array.isArray(facets.tags) && facets.tags.length ? facets.tags.join('、') : undefined],
      [t('language'), r.language],
      [t('origin'), r.origin === undefined ? undefined :
        r.origin === 'national' ? t('originNational') : r.origin],
    ], 'resource-fields'));
    append(box, [placements(r.placements)]);
    // Withdrawn by a signed retraction (node/takedown.h): the notice instead of players and
    // links, which the node answers 410.
    if (r.withdrawn) {
      box.appendChild(h('p', { class: 'withdrawn-notice', testid: 'withdrawn', role: 'alert' },
        t('withdrawnNotice', r.withdrawn.since || '', r.withdrawn.reason || '')));
      return box;
    }
    if (r.link && typeof r.link === 'object') box.appendChild(externalLink(r));
    if (files.length) {
      box.appendChild(h('h2', null, t('files')));
      box.appendChild(h('div', { class: 'files' }, files.map((f) => fileCard(r, f))));
      box.appendChild(resolvePanel(r.id || id));
    }
    return box;
  }

  function placements(list) {
    if (!Array.isArray(list) || list.length === 0) return null;
    return h('div', { class: 'placements', testid: 'placements' },
      h('span', { class: 'facet-name' }, t('placements')),
      list.map((p) => h('a', {
        class: 'chip', href: hashFor('/browse', { platform: p.platform, board: p.board,
          category: p.category }),
      }, [p.board, p.category].filter(Boolean).join(' › '))));
  }

  function externalLink(r) {
    const site = r.link.site || r.link.url || '';
    return h('section', { class: 'file', testid: 'external-link' },
      h('h2', null, t('externalLink')),
      h('p', null, h('a', {
        class: 'button', href: '/v1/open/' + encodeURIComponent(r.id), target: '_blank',
        rel: 'noopener noreferrer', testid: 'open-link',
      }, t('openSite', site))),
      r.link.url ? h('p', { class: 'muted mono' }, r.link.url) : null);
  }

  // The player reads a mirrored file by its content address (immutable: cached for good);
  // a file not mirrored here goes through /v1/files, where the node's miss policy applies.
  function fileSource(f) {
    return f.local && f.content_url ? f.content_url : f.url;
  }

  function fileCard(r, f) {
    const type = String(f.media_type || '');
    const src = fileSource(f);
    const card = h('section', { class: 'file', testid: 'file', 'data-name': f.name });
    card.appendChild(h('h3', { testid: 'file-name' }, f.name || ''));
    if (src && type.startsWith('video/')) {
      card.appendChild(h('video', {
        src, controls: true, preload: 'metadata', playsinline: true, testid: 'video',
      }));
    } else if (src && type.startsWith('audio/')) {
      card.appendChild(h('audio', { src, controls: true, preload: 'metadata', testid: 'audio' }));
    } else if (src && type.startsWith('image/')) {
      card.appendChild(h('img', { src, alt: f.name || '', loading: 'lazy', testid: 'image' }));
    }
    const actions = h('p', { class: 'actions' });
    if (src && type === 'application/pdf') {
      actions.appendChild(pdfReader(card, src));
      actions.appendChild(h('a', {
        href: src, target: '_blank', rel: 'noopener', testid: 'pdf-link',
      }, t('openNewWindow')));
    }
    if (f.url) {
      actions.appendChild(h('a', { href: f.url, download: f.name || '', testid: 'file-download' },
        t('download')));
    }
    card.appendChild(actions);
    card.appendChild(fields([
      [t('mediaType'), type || undefined],
      [t('size'), bytes(f.size), 'file-size'],
      [t('sha256'), f.sha256 ? h('code', { class: 'mono' }, f.sha256) : undefined, 'file-sha256'],
      [t('mirrored'), localBadge(f.local), 'file-local'],
    ]));
    return card;
  }

  // A button that opens the PDF in an inline frame (the browser's own viewer) and closes it.
  function pdfReader(card, src) {
    let frame = null;
    const button = h('button', { type: 'button', testid: 'pdf-open' }, t('readOnline'));
    button.addEventListener('click', () => {
      if (frame) {
        frame.remove();
        frame = null;
        button.textContent = t('readOnline');
        return;
      }
      frame = h('iframe', { src, class: 'pdf', title: t('kind_pdf'), testid: 'pdf-frame' });
      card.insertBefore(frame, button.parentNode);
      button.textContent = t('hideReader');
    });
    return button;
  }

  function resolvePanel(id) {
    const list = h('ul', { class: 'tiers', testid: 'resolve-list' });
    const button = h('button', { type: 'button', testid: 'resolve-button' }, t('resolveButton'));
    button.addEventListener('click', async () => {
      button.disabled = true;
      clear(list);
      list.appendChild(h('li', { class: 'muted' }, t('loading')));
      try {
        const res = await api('/v1/resolve/' + encodeURIComponent(id));
        clear(list);
        for (const tier of Array.isArray(res.tiers) ? res.tiers : []) list.appendChild(tierRow(tier));
      } catch (e) {
        clear(list);
        list.appendChild(h('li', { class: 'error' }, t('error', e.message)));
      } finally {
        button.disabled = false;
      }
    });
    return h('section', { class: 'resolve', testid: 'resolve' },
      h('h2', null, t('resolveTitle'), ' ', button), list);
  }

  function tierRow(tier) {
    const holds = tier.holds === true ? 'yes' : tier.holds === false ? 'no' : 'unknown';
    const label = { yes: t('holdsYes'), no: t('holdsNo'), unknown: t('holdsUnknown') }[holds];
    const name = tier.url ? tier.name || tier.url : t('thisNode');
    return h('li', { class: 'tier holds-' + holds, testid: 'resolve-tier', 'data-holds': holds },
      h('span', { class: 'dot' }), h('span', null, name), ' ',
      h('strong', null, label), tier.error ? h('span', { class: 'muted' }, ' ' + tier.error) : null);
  }

  // ---- #/node: this node's status, refreshed while shown. ----
  async function viewNode(ctx) {
    const s = await api('/v1/status');
    updateFooter(s);
    const box = h('section', { class: 'node', testid: 'node' });
    box.appendChild(h('h1', null, t('nodeTitle'), ' ', h('button', {
      type: 'button', class: 'small', testid: 'node-refresh', onclick: route,
    }, t('refresh'))));
    box.appendChild(nodeIdentity(s));
    box.appendChild(nodeSync(s));
    box.appendChild(nodeSources(s.sources));
    box.appendChild(nodeStorage(s.storage));
    box.appendChild(nodeServing(s.serving));
    box.appendChild(nodeUsage(s.usage));
    if (!ctx.alive()) return box;  // the user has moved on: no refresh timer
    pageTimer = setInterval(() => {
      if (!document.hidden) {
        api('/v1/status').then((fresh) => {
          if (ctx.alive()) { updateFooter(fresh); refreshNode(box, fresh); }
        }, () => {});
      }
    }, STATUS_REFRESH_MS);
    return box;
  }

  function refreshNode(box, s) {
    const parts = [nodeIdentity(s), nodeSync(s), nodeSources(s.sources), nodeStorage(s.storage),
      nodeServing(s.serving), nodeUsage(s.usage)];
    // Replace the sections after the title in place, keeping the scroll position.
    while (box.children.length > 1) box.removeChild(box.lastChild);
    for (const p of parts) box.appendChild(p);
  }

  function nodeIdentity(s) {
    const cur = s.current && typeof s.current === 'object' ? s.current : null;
    const region = [s.region_name, s.region ? '(' + s.region + ')' : ''].filter(Boolean).join(' ');
    return fields([
      [t('name'), s.name || '—', 'node-name'],
      [t('tier'), tierName(s.tier), 'node-tier'],
      [t('region'), region || '—', 'node-region'],
      [t('release'), cur ? cur.release || '—' : t('noRelease'), 'node-release'],
      [t('version'), cur ? num(cur.version) : undefined, 'node-version'],
      [t('releaseFiles'), cur && cur.files !== undefined ?
        num(cur.files) + ' · ' + bytes(cur.bytes) : undefined, 'node-release-files'],
      [t('switchedAt'), cur ? time(cur.switched_at) : undefined, 'node-switched-at'],
    ], 'node-identity');
  }

  function syncLine(x) {
    if (!x || typeof x !== 'object' || Object.keys(x).length === 0) return t('never');
    const ok = x.ok === true;
    const parts = [h('strong', { class: ok ? 'good' : 'bad' }, ok ? t('ok') : t('failed')), ' ',
      time(x.finished_at || x.at)];
    const src = x.metadata_source || x.source;
    if (src) parts.push(' · ', t('from', src));
    if (typeof x.fetched_bytes === 'number' && x.fetched_bytes > 0) {
      parts.push(' · ', t('fetched', bytes(x.fetched_bytes)));
    }
    if (x.error) parts.push(h('div', { class: 'bad small' }, x.error));
    return h('span', null, parts);
  }

  function nodeSync(s) {
    const rej = Array.isArray(s.recent_rejections) ? s.recent_rejections : [];
    return fields([
      [t('lastSync'), syncLine(s.last_sync), 'node-last-sync'],
      [t('lastCheck'), syncLine(s.last_check), 'node-last-check'],
      [t('children'), typeof s.children_reports === 'number' ? num(s.children_reports) : undefined,
        'node-children'],
      [t('rejections'), rej.length ? h('ul', { class: 'small' }, rej.map((x) => h('li', null, x)))
        : undefined, 'node-rejections'],
    ], 'node-sync');
  }

  // The upstream chain in the order the node asks it: one small card per source.
  function nodeSources(sources) {
    const list = Array.isArray(sources) ? sources : [];
    const rows = list.map((x, i) => h('li', { class: 'source', testid: 'source-row' },
      h('div', null, h('strong', null, String(i + 1) + '. ' + (x.name || '')), ' ',
        h('span', { class: 'badge ' + (x.healthy === false ? 'bad-bg' : 'good-bg'),
          testid: 'source-health' }, x.healthy === false ? t('demoted') : t('healthy'))),
      h('div', { class: 'muted mono' }, x.url || ''),
      h('div', { class: 'small' }, t('failures') + ' ' + num(x.failures) + ' · ' + t('lastOk') +
        ' ' + time(x.last_ok)),
      x.last_error ? h('div', { class: 'small bad' }, t('lastError') + ': ' + x.last_error) : null));
    return h('section', { testid: 'node-sources' }, h('h2', null, t('sources')),
      list.length === 0 ? h('p', { class: 'muted' }, t('none')) : h('ol', { class: 'sources' }, rows));
  }

  function nodeStorage(st) {
    if (!st || typeof st !== 'object') return h('section', { testid: 'node-storage' });
    const quota = st.quota_bytes;
    const used = st.stored_bytes;
    const bar = typeof quota === 'number' && quota > 0 && typeof used === 'number' ?
      h('progress', { max: quota, value: Math.min(used, quota) }) : null;
    return h('section', { testid: 'node-storage' }, h('h2', null, t('storage')), bar,
      fields([
        [t('storedBytes'), bytes(used), 'node-stored-bytes'],
        [t('quota'), typeof quota === 'number' && quota > 0 ? bytes(quota) : t('unlimited'),
          'node-quota'],
        [t('rawBytes'), bytes(st.raw_bytes)],
        [t('chunks'), num(st.chunks)],
      ]));
  }

  // usage (docs/serving.md): {today: {date, views, downloads}, last_7_days: {views,
  // downloads}, top: [{id, title, views, downloads}]}; a list of days is shown if present.
  function nodeUsage(u) {
    const box = h('section', { testid: 'node-usage' }, h('h2', null, t('usage')));
    if (!u || typeof u !== 'object') {
      box.appendChild(h('p', { class: 'muted' }, t('none')));
      return box;
    }
    const counts = (c) => (isCounts(c) ?
      t('views') + ' ' + num(c.views) + ' · ' + t('downloads') + ' ' + num(c.downloads) : undefined);
    box.appendChild(fields([
      [t('today'), counts(u.today), 'usage-today'],
      [t('last7'), counts(u.last_7_days), 'usage-week'],
    ]));
    const days = Object.values(u).find((v) => Array.isArray(v) && v.length && v[0] &&
      typeof v[0] === 'object' && 'date' in v[0]);
    if (days) {
      box.appendChild(h('table', { testid: 'usage-days' },
        h('tr', null, h('th', null, t('date')), h('th', null, t('views')),
          h('th', null, t('downloads'))),
        days.map((d) => h('tr', null, h('td', null, d.date), h('td', null, num(d.views)),
          h('td', null, num(d.downloads))))));
    }
    const top = Array.isArray(u.top) ? u.top.filter((x) => x && x.id) : [];
    if (top.length) {
      box.appendChild(h('h3', null, t('topResources')));
      box.appendChild(h('ol', { testid: 'usage-top' }, top.slice(0, 10).map((x) =>
        h('li', null, h('a', { href: '#/r/' + encodeURIComponent(x.id) }, x.title || x.id), ' ',
          h('span', { class: 'muted small' }, counts(x))))));
    }
    return box;
  }

  // serving (node/user_api StatusJson): the miss policy, mirrored files and the proxy cache.
  function nodeServing(sv) {
    if (!sv || typeof sv !== 'object') return h('section', { testid: 'node-serving' });
    const c = sv.cache && typeof sv.cache === 'object' ? sv.cache : null;
    const miss = sv.miss_policy ? t('miss_' + sv.miss_policy) : undefined;
    return h('section', { testid: 'node-serving' }, h('h2', null, t('serving')), fields([
      [t('missPolicy'), miss, 'node-miss-policy'],
      [t('catalogResources'), typeof sv.resources === 'number' ? num(sv.resources) : undefined],
      [t('localFiles'), typeof sv.local_files === 'number' ? num(sv.local_files) : undefined,
        'node-local-files'],
      [t('cache'), c ? t('cacheLine', num(c.files), bytes(c.bytes),
        c.quota_bytes > 0 ? bytes(c.quota_bytes) : t('unlimited')) : undefined, 'node-cache'],
    ]));
  }

  function isCounts(x) {
    return !!x && typeof x === 'object' && ('views' in x || 'downloads' in x);
  }

  // ---- Page chrome: language, header text, footer. ----
  function applyChrome() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    for (const el of document.querySelectorAll('[data-i18n]')) {
      el.textContent = t(el.getAttribute('data-i18n'));
    }
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) {
      el.placeholder = t(el.getAttribute('data-i18n-placeholder'));
      el.setAttribute('aria-label', t('search'));
    }
    document.title = t('brand') + (nodeName ? ' · ' + nodeName : '');
  }

  let nodeName = '';
  let lastStatus = null;
  function updateFooter(s) {
    lastStatus = s;
    const fresh = s.serving && s.serving.freshness;
    if (fresh && typeof fresh.state === 'string') {
      showStale(fresh.state === 'fresh' ? null : fresh.expires);
    }
    nodeName = s.name || '';
    document.getElementById('brand-node').textContent = nodeName;
    const cur = s.current && typeof s.current === 'object' ? s.current : null;
    const foot = document.getElementById('footer');
    clear(foot);
    append(foot, [h('a', { href: '#/node' }, nodeName || t('nodeNav')), ' · ', tierName(s.tier),
      s.region_name ? ' · ' + s.region_name : '',
      cur && cur.release ? ' · ' + t('release') + ' ' + cur.release : '']);
    document.title = t('brand') + (nodeName ? ' · ' + nodeName : '');
  }

  function switchLanguage() {
    lang = lang === 'zh' ? 'en' : 'zh';
    saveLanguage(lang);
    // Keep ?lang in step so that a reload (which reads ?lang first) keeps the choice.
    const url = new URL(location.href);
    if (url.searchParams.has('lang')) {
      url.searchParams.set('lang', lang);
      history.replaceState(null, '', url.toString());
    }
    applyChrome();
    if (lastStatus) updateFooter(lastStatus);
    route();
  }

  function start() {
    applyChrome();
    document.getElementById('lang-switch').addEventListener('click', switchLanguage);
    document.getElementById('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = document.getElementById('search-input').value.trim();
      location.hash = q ? hashFor('/search', { q }) : '#/';
    });
    window.addEventListener('hashchange', () => {
      route();
      window.scrollTo(0, 0);
    });
    api('/v1/status').then(updateFooter, () => {});
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
