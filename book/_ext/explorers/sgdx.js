/* sgdbook explorers: controls and drawings (inline SVG). Needs sgdx-core.js (window.SGDX).
 * Each <div class="sgdx" data-explorer="KIND"> written by the `explorer` directive becomes one
 * explorer; its static fallback (shown without JavaScript) is hidden once it runs. Parameters
 * are mirrored in the page URL (?KIND.name=value) so that a setting can be linked. */
(function () {
  "use strict";
  var S = window.SGDX, SVGNS = "http://www.w3.org/2000/svg";
  var W = 360, H = 250, PAD = { l: 70, r: 10, t: 10, b: 44 };

  function el(tag, attrs, parent, text) {
    var e = tag.indexOf("svg:") === 0 ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  // Numbers as the book prints them: a real minus sign, powers of ten as 1.2×10⁻³.
  var SUP = { "-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹" };
  function fmt(v, digits) {
    if (!isFinite(v)) return String(v);
    digits = digits || 4;
    var a = Math.abs(v), s;
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) {
      var p = v.toExponential(digits - 1).split("e");
      s = p[0].replace(/\.?0+$/, "") + "×10" + p[1].replace("+", "").split("").map(function (c) { return SUP[c]; }).join("");
    } else s = String(Number(v.toPrecision(digits)));
    return s.replace(/^-/, "−");
  }

  // ---- plots ---------------------------------------------------------------------------------
  function niceTicks(lo, hi, n) {
    var span = hi - lo, step = Math.pow(10, Math.floor(Math.log10(span / n))), err = span / n / step;
    step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return out;
  }
  function Plot(parent, label, xlabel, ylabel) {
    var fig = el("figure", { class: "sgdx-plot" }, parent);
    el("p", { class: "sgdx-plot-title", "aria-hidden": "true" }, fig, label);
    this.svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": label }, fig);
    this.cap = el("figcaption", {}, fig);
    this.legend = el("ul", { class: "sgdx-legend" }, this.cap);
    el("span", { class: "sgdx-axes" }, this.cap, "横轴：" + xlabel + "；纵轴：" + ylabel);
    // the axis names drawn on the plot itself drop the "(log scale)" note: the ticks show it
    var bare = function (t) { return t.replace(/（(双)?对数坐标）$/, ""); };
    this.xname = bare(xlabel); this.yname = bare(ylabel);
    this.label = label;
    Plot.count = (Plot.count || 0) + 1;
    this.clip = "sgdx-clip-" + Plot.count;
  }
  Plot.prototype.draw = function (o) {
    var svg = this.svg, self = this;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var ly = !!o.logy, lx = !!o.logx;
    if (o.equal) { // one unit is as long on both axes: widen the y range about its centre
      var cy = (o.ylim[0] + o.ylim[1]) / 2, hy = (o.xlim[1] - o.xlim[0]) * (H - PAD.t - PAD.b) / (W - PAD.l - PAD.r) / 2;
      o.ylim = [cy - hy, cy + hy];
    }
    var tx = function (v) { return lx ? Math.log10(v) : v; }, ty = function (v) { return ly ? Math.log10(v) : v; };
    var x0 = tx(o.xlim[0]), x1 = tx(o.xlim[1]), y0 = ty(o.ylim[0]), y1 = ty(o.ylim[1]);
    var X = function (v) { return PAD.l + (tx(v) - x0) / (x1 - x0) * (W - PAD.l - PAD.r); };
    var Y = function (v) { return H - PAD.b - (ty(v) - y0) / (y1 - y0) * (H - PAD.t - PAD.b); };
    var defs = el("svg:defs", {}, svg), cp = el("svg:clipPath", { id: this.clip }, defs);
    el("svg:rect", { x: PAD.l, y: PAD.t, width: W - PAD.l - PAD.r, height: H - PAD.t - PAD.b }, cp);
    var axes = el("svg:g", { class: "sgdx-axis" }, svg);
    el("svg:rect", { x: PAD.l, y: PAD.t, width: W - PAD.l - PAD.r, height: H - PAD.t - PAD.b, class: "sgdx-frame" }, axes);
    function ticks(log, lo, hi) {
      if (!log) return niceTicks(lo, hi, 5);
      var out = [], a = Math.ceil(lo - 1e-9), b = Math.floor(hi + 1e-9), every = Math.max(1, Math.ceil((b - a + 1) / 6));
      for (var e = a; e <= b; e++) if ((e - a) % every === 0) out.push(Math.pow(10, e));
      return out;
    }
    ticks(lx, x0, x1).forEach(function (t) {
      el("svg:line", { x1: X(t), x2: X(t), y1: H - PAD.b, y2: H - PAD.b + 4 }, axes);
      el("svg:text", { x: X(t), y: H - PAD.b + 16, "text-anchor": "middle" }, axes, lx ? fmt(t, 2) : fmt(t, 3));
    });
    ticks(ly, y0, y1).forEach(function (t) {
      el("svg:line", { x1: PAD.l - 4, x2: PAD.l, y1: Y(t), y2: Y(t) }, axes);
      el("svg:text", { x: PAD.l - 6, y: Y(t) + 4, "text-anchor": "end" }, axes, ly ? fmt(t, 2) : fmt(t, 3));
    });
    el("svg:text", { x: PAD.l + (W - PAD.l - PAD.r) / 2, y: H - 6, "text-anchor": "middle", class: "sgdx-axis-name" }, axes, this.xname);
    var yc = PAD.t + (H - PAD.t - PAD.b) / 2;
    el("svg:text", { x: 11, y: yc, "text-anchor": "middle", transform: "rotate(-90 11 " + yc + ")", class: "sgdx-axis-name" }, axes, this.yname);
    var g = el("svg:g", { "clip-path": "url(#" + this.clip + ")" }, svg);
    (o.shapes || []).forEach(function (s) { s(g, X, Y); });
    (o.hlines || []).forEach(function (h) {
      el("svg:line", { x1: PAD.l, x2: W - PAD.r, y1: Y(h.y), y2: Y(h.y), class: "sgdx-ref " + (h.cls || "") }, g);
    });
    (o.vlines || []).forEach(function (h) {
      el("svg:line", { y1: PAD.t, y2: H - PAD.b, x1: X(h.x), x2: X(h.x), class: "sgdx-ref " + (h.cls || "") }, g);
    });
    while (this.legend.firstChild) this.legend.removeChild(this.legend.firstChild);
    (o.series || []).forEach(function (s) {
      var pts = s.points.filter(function (p) {
        return isFinite(p[0]) && isFinite(p[1]) && (!ly || p[1] > 0) && (!lx || p[0] > 0);
      }).map(function (p) { // keep far-off points drawable: clamp to a band around the frame
        return [Math.max(-W, Math.min(2 * W, X(p[0]))), Math.max(-H, Math.min(2 * H, Y(p[1])))];
      });
      if (!s.markersOnly && pts.length > 1)
        el("svg:polyline", { points: pts.map(function (p) { return p[0].toFixed(2) + "," + p[1].toFixed(2); }).join(" "),
                             class: "sgdx-line " + s.cls + (s.dash ? " sgdx-dash" : "") }, g);
      if (s.markers || s.markersOnly) pts.forEach(function (p) {
        el("svg:circle", { cx: p[0].toFixed(2), cy: p[1].toFixed(2), r: s.r || 2.2, class: "sgdx-dot " + s.cls }, g);
      });
      if (s.label) {
        var li = el("li", {}, self.legend);
        el("span", { class: "sgdx-swatch " + s.cls + (s.dash ? " sgdx-dash" : "") + (s.markersOnly ? " sgdx-dotswatch" : ""), "aria-hidden": "true" }, li);
        li.appendChild(document.createTextNode(s.label));
      }
    });
    (o.marks || []).forEach(function (m) {
      el("svg:circle", { cx: X(m.x), cy: Y(m.y), r: m.r || 4, class: "sgdx-mark " + (m.cls || "") }, g);
    });
    if (o.aria) svg.setAttribute("aria-label", this.label + "。" + o.aria);
  };

  // ---- controls ------------------------------------------------------------------------------
  function Explorer(root, spec) {
    var kind = root.getAttribute("data-explorer"), self = this;
    this.root = root; this.spec = spec; this.kind = kind; this.inputs = {};
    var id = root.id || ("sgdx-" + kind);
    root.id = id;
    var app = el("div", { class: "sgdx-app" });
    el("p", { class: "sgdx-title" }, app, spec.title);
    if (spec.hint) el("p", { class: "sgdx-hint" }, app, spec.hint);
    var form = el("form", { class: "sgdx-controls", "aria-label": spec.title + "：参数" }, app);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var query = new URLSearchParams(window.location.search);
    spec.params.forEach(function (p) {
      var row = el("div", { class: "sgdx-row" }, form), iid = id + "-" + p.name, input;
      el("label", { for: iid }, row, p.label);
      if (p.options) {
        input = el("select", { id: iid }, row);
        p.options.forEach(function (opt) { el("option", { value: opt[0] }, input, opt[1]); });
      } else {
        input = el("input", { type: "range", id: iid, min: p.min, max: p.max, step: p.step }, row);
      }
      var out = p.options ? null : el("output", { for: iid, id: iid + "-value" }, row);
      var fromUrl = query.get(kind + "." + p.name), value = p.value;
      if (fromUrl !== null) {
        if (p.options) { if (p.options.some(function (o) { return o[0] === fromUrl; })) value = fromUrl; }
        else if (isFinite(parseFloat(fromUrl))) value = Math.min(p.max, Math.max(p.min, parseFloat(fromUrl)));
      }
      input.value = value;
      self.inputs[p.name] = { p: p, input: input, out: out, row: row };
      input.addEventListener("input", function () { self.schedule(); });
      input.addEventListener("change", function () { self.schedule(); });
    });
    var reset = el("button", { type: "button", class: "sgdx-reset" }, form, "重置");
    reset.addEventListener("click", function () {
      spec.params.forEach(function (p) { self.inputs[p.name].input.value = p.value; });
      self.update(true);
    });
    this.status = el("p", { class: "sgdx-status", "aria-live": "polite", id: id + "-status" }, app);
    this.plots = el("div", { class: "sgdx-plots" }, app);
    this.view = spec.setup(this);
    var fallback = root.querySelector(".sgdx-fallback");
    if (fallback) fallback.hidden = true;
    root.appendChild(app);
    this.update(false);
  }
  // Recompute at most once per frame: a dragged slider sends many input events, and one
  // recomputation (ch4 at n = 500 and 2000 draws) can take longer than a frame. The printed
  // slider value follows at once.
  Explorer.prototype.schedule = function () {
    var self = this, v = this.values();
    for (var k in this.inputs) { var i = this.inputs[k]; if (i.out) i.out.textContent = (i.p.show || fmt)(v[k]); }
    if (this.pending) return;
    this.pending = true;
    (window.requestAnimationFrame || function (f) { return setTimeout(f, 16); })(function () {
      self.pending = false;
      self.update(true);
    });
  };
  Explorer.prototype.values = function () {
    var v = {};
    for (var k in this.inputs) {
      var i = this.inputs[k];
      v[k] = i.p.options ? i.input.value : parseFloat(i.input.value);
    }
    return v;
  };
  Explorer.prototype.update = function (writeUrl) {
    var v = this.values(), self = this;
    for (var k in this.inputs) {
      var i = this.inputs[k];
      if (i.out) i.out.textContent = (i.p.show || fmt)(v[k]);
      if (i.p.when) i.row.hidden = !i.p.when(v);
    }
    this.status.textContent = this.spec.render(v, this.view);
    this.root.setAttribute("data-status", this.status.textContent);
    if (writeUrl) {
      try {
        var q = new URLSearchParams(window.location.search);
        this.spec.params.forEach(function (p) {
          var val = self.inputs[p.name].input.value;
          if (String(val) === String(p.value)) q.delete(self.kind + "." + p.name); else q.set(self.kind + "." + p.name, val);
        });
        var s = q.toString();
        window.history.replaceState(window.history.state, "", window.location.pathname + (s ? "?" + s : "") + window.location.hash);
      } catch (e) { /* file:// pages may refuse; the explorer works all the same */ }
    }
  };

  // ---- shared pieces -------------------------------------------------------------------------
  function ellipses(q, levels) { // level sets of 1/2 (a x^2 + b y^2) for diagonal A
    return function (g, X, Y) {
      levels.forEach(function (c) {
        var rx = Math.sqrt(2 * c / q.A[0][0]), ry = Math.sqrt(2 * c / q.A[1][1]);
        el("svg:ellipse", { cx: X(0), cy: Y(0), rx: Math.abs(X(rx) - X(0)), ry: Math.abs(Y(ry) - Y(0)), class: "sgdx-contour" }, g);
      });
    };
  }
  function levelsFor(q, x0) {
    var top = q.value(x0) * 1.2, out = [];
    for (var i = 1; i <= 8; i++) out.push(top * Math.pow(i / 8, 2));
    return out;
  }
  function path(xs) { return xs.map(function (x) { return [x[0], x[1]]; }); }
  function series(ys) { return ys.map(function (y, k) { return [k, y]; }); }
  function logRange(arrays, floor) {
    var lo = Infinity, hi = 0;
    arrays.forEach(function (a) { a.forEach(function (v) { v = Math.abs(v); if (isFinite(v) && v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }); });
    if (!(hi > 0)) return [1e-3, 1];
    lo = Math.max(lo, hi * (floor || 1e-16));
    return [Math.pow(10, Math.floor(Math.log10(lo))), Math.pow(10, Math.ceil(Math.log10(hi) + 1e-9))];
  }
  var SUB = { "0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆", "7": "₇", "8": "₈", "9": "₉" };
  function sub(k) { return String(k).split("").map(function (c) { return SUB[c]; }).join(""); }
  function norm(x) { var s = 0; for (var i = 0; i < x.length; i++) s += x[i] * x[i]; return Math.sqrt(s); }
  function runStatus(run, name) {
    var k = run.xs.length - 1;
    return run.diverged ? name + (/[A-Za-z]$/.test(name) ? " " : "") + S.divergenceMessage(k, run.xs[k], run.losses[k]) : null;
  }

  var SPECS = {};
  // ch1: gradient descent on 1/2 x'Ax, A = diag(L/kappa, L), L = 4, from (-8, 2)
  SPECS["gd-quadratic"] = {
    title: "梯度下降：二次函数 f(x) = ½(λ₁x₁² + λ₂x₂²)，λ₂ = L = 4，λ₁ = L/κ，起点 (−8, 2)",
    params: [
      { name: "eta", label: "步长 η", min: 0.01, max: 0.6, step: 0.01, value: 0.1 },
      { name: "kappa", label: "条件数 κ", min: 1, max: 100, step: 1, value: 20 },
      { name: "steps", label: "步数 k", min: 1, max: 100, step: 1, value: 30 },
    ],
    setup: function (ex) {
      return { contour: new Plot(ex.plots, "等高线上的迭代路径", "x₁", "x₂"),
               errors: new Plot(ex.plots, "误差 ‖x_k − x*‖、特征方向上的分量与定理的界（对数坐标）", "迭代次数 k", "误差（对数坐标）") };
    },
    render: function (v, view) {
      var L = 4, lam = [L / v.kappa, L], q = S.quadratic([[lam[0], 0], [0, lam[1]]]), x0 = [-8, 2];
      var run = S.gradientDescent(q, x0, v.eta, v.steps), k = run.xs.length - 1;
      var f = lam.map(function (l) { return 1 - v.eta * l; }), rho = Math.max(Math.abs(f[0]), Math.abs(f[1]));
      view.contour.draw({ equal: true, xlim: [-9, 9], ylim: [-2.6, 2.6], shapes: [ellipses(q, levelsFor(q, x0))],
        series: [{ points: path(run.xs), cls: "sgdx-c1", markers: true, label: "梯度下降的迭代点 x_k" }],
        marks: [{ x: 0, y: 0, cls: "sgdx-c3" }], aria: "η = " + fmt(v.eta) + "，κ = " + v.kappa });
      var c1 = run.xs.map(function (x) { return Math.abs(x[0]); }), c2 = run.xs.map(function (x) { return Math.abs(x[1]); });
      var nrm = run.xs.map(norm), bound = run.xs.map(function (_, j) { return Math.pow(rho, j) * norm(x0); });
      view.errors.draw({ xlim: [0, Math.max(1, k)], ylim: logRange([c1, c2, nrm, bound], 1e-12), logy: true,
        series: [{ points: series(bound), cls: "sgdx-c3 sgdx-under sgdx-wide", dash: true, label: "定理的界 ρ(η)^k ‖x₀ − x*‖" },
                 { points: series(nrm), cls: "sgdx-c4 sgdx-under", label: "‖x_k − x*‖（定理中的量）" },
                 { points: series(c1), cls: "sgdx-c1", markers: true, label: "|c_k,1|，λ₁ = " + fmt(lam[0]) + " 方向" },
                 { points: series(c2), cls: "sgdx-c2", markers: true, label: "|c_k,2|，λ₂ = " + fmt(lam[1]) + " 方向" }] });
      var head = "每步因子 1 − ηλ₁ = " + fmt(f[0]) + "，1 − ηλ₂ = " + fmt(f[1]) + "，ρ(η) = " + fmt(rho) + "（2/L = 0.5）。";
      if (run.diverged) return head + runStatus(run, "梯度下降") + "。";
      return head + k + " 步后 ‖x" + sub(k) + " − x*‖ = " + fmt(nrm[k]) + "，界 ρ^k‖x₀ − x*‖ = " + fmt(bound[k]) +
        (rho >= 1 ? "；ρ ≥ 1，不收敛。" : "。");
    },
  };

  // ch2: f(x) = (L/2) x^2 from 10, L = 2 (x^2) or 8 (4x^2)
  SPECS["lr-threshold"] = {
    title: "学习率与稳定性阈值 2/L：f(x) = x² 或 4x²，从 x₀ = 10 出发",
    params: [
      { name: "fn", label: "函数", options: [["2", "f(x) = x²（L = 2，2/L = 1）"], ["8", "f(x) = 4x²（L = 8，2/L = 0.25）"]], value: "2" },
      { name: "eta", label: "步长 η", min: 0.005, max: 1.2, step: 0.005, value: 0.2 },
      { name: "steps", label: "最多步数", min: 5, max: 200, step: 1, value: 30 },
    ],
    setup: function (ex) {
      return { iter: new Plot(ex.plots, "迭代值 x_k", "迭代次数 k", "x_k"),
               abs: new Plot(ex.plots, "|x_k|（对数坐标）", "迭代次数 k", "|x_k|（对数坐标）"),
               axis: new Plot(ex.plots, "步长 η 与阈值 1/L、2/L", "步长 η", "每步因子 |1 − ηL|") };
    },
    render: function (v, view) {
      var L = parseFloat(v.fn), run = S.gradientDescent(S.quadratic([[L]]), [10], v.eta, v.steps), k = run.xs.length - 1;
      var xs = run.xs.map(function (x) { return x[0]; }), a = xs.map(Math.abs), lim = Math.max(10, Math.min(50, Math.max.apply(null, a)));
      view.iter.draw({ xlim: [0, Math.max(1, k)], ylim: [-lim, lim], hlines: [{ y: 0 }],
        series: [{ points: series(xs), cls: "sgdx-c1", markers: true, label: "x_k" }] });
      view.abs.draw({ xlim: [0, Math.max(1, k)], ylim: logRange([a, [10]], 1e-14), logy: true,
        hlines: [{ y: 10, cls: "sgdx-c3" }],
        series: [{ points: series(a), cls: "sgdx-c1", markers: true, label: "|x_k|" },
                 { points: [[0, 10], [Math.max(1, k), 10]], cls: "sgdx-c3", dash: true, label: "|x₀| = 10：高于它即在增长" }] });
      var etas = [], fac = [];
      for (var e = 0; e <= 1.2 + 1e-9; e += 0.005) { etas.push(e); fac.push(Math.abs(1 - e * L)); }
      view.axis.draw({ xlim: [0, 1.2], ylim: [0, 3], vlines: [{ x: 1 / L, cls: "sgdx-c2" }, { x: 2 / L, cls: "sgdx-c3" }],
        hlines: [{ y: 1, cls: "sgdx-c3" }],
        series: [{ points: etas.map(function (e, j) { return [e, fac[j]]; }), cls: "sgdx-c1", label: "|1 − ηL|（< 1 才收敛）" },
                 { points: [[1 / L, 0], [1 / L, 3]], cls: "sgdx-c2", label: "η = 1/L：一步到达最小点" },
                 { points: [[2 / L, 0], [2 / L, 3]], cls: "sgdx-c3", dash: true, label: "阈值 η = 2/L" }],
        marks: [{ x: v.eta, y: Math.abs(1 - v.eta * L), cls: "sgdx-c1" }] });
      var factor = 1 - v.eta * L, regime = v.eta < 1 / L ? "单调收敛" : v.eta === 1 / L ? "一步到 0" :
        v.eta < 2 / L ? "振荡收敛" : v.eta === 2 / L ? "在 ±10 之间来回跳，不收敛也不发散" : "发散";
      var head = "η = " + fmt(v.eta) + "，2/L = " + fmt(2 / L) + "：每步乘以 1 − ηL = " + fmt(factor) + "（" + regime + "）。";
      if (run.diverged) return head + runStatus(run, "梯度下降") + "。";
      return head + (k >= 10 ? "x₁₀ = " + fmt(xs[10], 6) + "，" : "") + "x" + sub(k) + " = " + fmt(xs[k], 6) + "。";
    },
  };

  // ch3: SGD and GD on sin(theta) + 0.1 theta^2 (basin_batches.batch_run)
  var THETA_MAX = S.THETA_MAX;
  SPECS["sgd-basins"] = {
    title: "SGD 与梯度下降：f(θ) = sin θ + 0.1θ²，f₁ = 2 sin θ 与 f₂ = 0.2θ² 的平均",
    params: [
      { name: "eta", label: "步长 η", min: 0.01, max: 1.5, step: 0.01, value: 0.15 },
      { name: "batch", label: "批量大小 b", min: 1, max: 16, step: 1, value: 1 },
      { name: "seed", label: "种子", min: 0, max: 99, step: 1, value: 0 },
      { name: "theta0", label: "起点 θ₀", min: -8, max: 8, step: 0.5, value: 5 },
      { name: "steps", label: "步数", min: 10, max: 500, step: 10, value: 200 },
    ],
    setup: function (ex) {
      return { f: new Plot(ex.plots, "函数与第 k 步的位置", "θ", "f(θ)"), t: new Plot(ex.plots, "θ_k 随迭代变化", "迭代次数 k", "θ_k") };
    },
    render: function (v, view) {
      var g = S.basinRun(0, v.theta0, v.eta, v.steps, 0), s = S.basinRun(v.batch, v.theta0, v.eta, v.steps, v.seed);
      var curve = []; for (var t = -10; t <= 10.001; t += 0.1) curve.push([t, S.basinValue(t)]);
      var gEnd = g.thetas[g.thetas.length - 1], sEnd = s.thetas[s.thetas.length - 1];
      var clampT = function (t) { return Math.max(-10, Math.min(10, t)); };
      view.f.draw({ xlim: [-10, 10], ylim: [-2, 11], vlines: [{ x: THETA_MAX, cls: "sgdx-c3" }],
        series: [{ points: curve, cls: "sgdx-c4", label: "f(θ)" },
                 { points: [[v.theta0, S.basinValue(v.theta0)]], cls: "sgdx-c4", markersOnly: true, r: 4, label: "起点 θ₀" },
                 { points: [[clampT(gEnd), S.basinValue(clampT(gEnd))]], cls: "sgdx-c1", markersOnly: true, r: 5, label: "梯度下降在第 " + v.steps + " 步的位置" },
                 { points: [[clampT(sEnd), S.basinValue(clampT(sEnd))]], cls: "sgdx-c2", markersOnly: true, r: 3.5, label: "SGD 在第 " + v.steps + " 步的位置" },
                 { points: [[THETA_MAX, -2], [THETA_MAX, 11]], cls: "sgdx-c3", dash: true, label: "局部极大点 θ_max = " + fmt(THETA_MAX) }] });
      view.t.draw({ xlim: [0, v.steps], ylim: [-10, 10], hlines: [{ y: THETA_MAX, cls: "sgdx-c3" }],
        series: [{ points: series(g.thetas), cls: "sgdx-c1", label: "梯度下降" }, { points: series(s.thetas), cls: "sgdx-c2", label: "SGD，批量大小 " + v.batch },
                 { points: [[0, THETA_MAX], [v.steps, THETA_MAX]], cls: "sgdx-c3", dash: true, label: "局部极大点 θ = " + fmt(THETA_MAX) + "（两个盆地的分界）" }] });
      var side = function (t) { return t < THETA_MAX ? "左边的盆地" : "右边的盆地"; };
      if (g.diverged || s.diverged) return (g.diverged ? "梯度下降" : "SGD") + "发散：迭代值的量级超过 1e+12，已停止。";
      return "第 " + v.steps + " 步时，梯度下降位于 θ = " + fmt(gEnd) + "（" + side(gEnd) + "），SGD（种子 " + v.seed + "）位于 θ = " + fmt(sEnd) + "（" + side(sEnd) + "）。";
    },
  };

  // ch4: spread of mini-batch gradients against the batch size
  SPECS["minibatch-noise"] = {
    title: "小批量梯度的离散程度：合成线性回归（y = 2x − 1 + 噪声）在 w = 0 处的逐样本梯度",
    params: [
      { name: "n", label: "样本数 n", min: 20, max: 500, step: 10, value: 200 },
      { name: "draws", label: "每个 b 抽的批数", min: 50, max: 2000, step: 50, value: 500 },
      { name: "replace", label: "抽样方式", options: [["1", "有放回"], ["0", "无放回"]], value: "1" },
      { name: "seed", label: "种子", min: 0, max: 99, step: 1, value: 0 },
    ],
    setup: function (ex) { return { p: new Plot(ex.plots, "小批量梯度的标准差与批量大小（双对数坐标）", "批量大小 b（对数坐标）", "√E‖g_B − ∇f‖²（对数坐标）") }; },
    render: function (v, view) {
      var rep = v.replace === "1", sizes = [];
      for (var b = 1; b <= v.n; b *= 2) sizes.push(b);
      if (!rep && sizes[sizes.length - 1] !== v.n) sizes.push(v.n);
      var G = S.regressionGradients(v.n, v.seed, [0, 0]), r = S.minibatchNoise(G, sizes, v.draws, rep, v.seed + 1);
      var line = sizes.map(function (b) { return [b, r.sigma / Math.sqrt(b)]; });
      // b = n without replacement: spread 0 in theory, rounding (~1e-16) measured; left out (S.noiseFit).
      var fit = S.noiseFit(sizes, r.measured, r.theory);
      var pts = fit.sizes.map(function (b, j) { return [b, fit.measured[j]]; });
      var ser = [{ points: line, cls: "sgdx-c3", dash: true, label: "σ/√b（斜率 −1/2）" }];
      if (!rep) ser.push({ points: sizes.map(function (b, j) { return [b, r.theory[j]]; }).filter(function (p) { return p[1] > 0; }), cls: "sgdx-c2", label: "引理：σ/√b · √((n − b)/(n − 1))" });
      ser.push({ points: pts, cls: "sgdx-c1", markersOnly: true, r: 3.5, label: "测量值（" + v.draws + " 个批量）" });
      view.p.draw({ xlim: [1, v.n], ylim: logRange([fit.measured, r.theory.filter(function (m) { return m > 0; })]), logx: true, logy: true, series: ser });
      var worst = 0;
      r.measured.forEach(function (m, j) { if (r.theory[j] > 0) worst = Math.max(worst, Math.abs(m / r.theory[j] - 1)); });
      return "σ = " + fmt(r.sigma) + "；测量点的拟合斜率 " + fmt(fit.slope, 3) + "（有放回时理论为 −0.5" + (rep ? "" : "；b = n 时理论离散度为 0，不参与拟合、不画出") + "）；测量值与引理的最大相对偏差 " + fmt(100 * worst, 2) + "%。";
    },
  };

  // ch5: heavy ball vs Nesterov on 0.1 x1^2 + 2 x2^2 from (-5, -2)
  var Q5 = function () { return S.quadratic([[0.2, 0], [0, 4]]); };
  SPECS["momentum"] = {
    title: "重球法与 Nesterov 动量：f(x) = 0.1x₁² + 2x₂²（μ = 0.2，L = 4，κ = 20），起点 (−5, −2)",
    hint: "试一试：固定 η = 0.3，把 β 从 0 慢慢调到 0.9，看路径在 x₁ 方向由缓慢爬行变成越过最小点来回摆动，f 的下降先变快、再变慢；再固定 β = 0.6，把 η 调到 0.8（重球法在二次函数上的稳定边界 2(1 + β)/L）附近，看两种方法谁先发散。",
    params: [
      { name: "eta", label: "步长 η", min: 0.01, max: 1, step: 0.01, value: 0.3 },
      { name: "beta", label: "动量 β", min: 0, max: 0.99, step: 0.01, value: 0.6 },
      { name: "steps", label: "步数", min: 10, max: 200, step: 10, value: 60 },
    ],
    setup: function (ex) {
      return { c: new Plot(ex.plots, "等高线上的两条路径", "x₁", "x₂"), l: new Plot(ex.plots, "函数值 f(x_k) − f*（对数坐标）", "迭代次数 k", "f(x_k) − f*（对数坐标）") };
    },
    render: function (v, view) {
      var q = Q5(), x0 = [-5, -2], hb = S.heavyBall(q, x0, v.eta, v.beta, v.steps), nv = S.nesterov(q, x0, v.eta, v.beta, v.steps);
      view.c.draw({ equal: true, xlim: [-6, 6], ylim: [-2.5, 2.5], shapes: [ellipses(q, levelsFor(q, x0))],
        series: [{ points: path(hb.xs), cls: "sgdx-c1", markers: true, label: "重球法" }, { points: path(nv.xs), cls: "sgdx-c2", markers: true, r: 1.6, label: "Nesterov（Sutskever 形式）" }],
        marks: [{ x: 0, y: 0, cls: "sgdx-c3" }] });
      view.l.draw({ xlim: [0, v.steps], ylim: logRange([hb.losses, nv.losses], 1e-20), logy: true,
        series: [{ points: series(hb.losses), cls: "sgdx-c1", label: "重球法" }, { points: series(nv.losses), cls: "sgdx-c2", label: "Nesterov" }] });
      var say = function (r, name) { return runStatus(r, name) || name + " " + (r.xs.length - 1) + " 步后 f = " + fmt(r.losses[r.losses.length - 1]); };
      return say(hb, "重球法") + "；" + say(nv, "Nesterov") + "。";
    },
  };

  // ch5: Adam on the same quadratic with noisy gradients grad f + sigma * N(0, I)
  SPECS["adam"] = {
    title: "Adam 的 β₁、β₂：f(x) = 0.1x₁² + 2x₂²，梯度加上标准差为 σ 的噪声，起点 (−5, −2)",
    params: [
      { name: "lr", label: "学习率 η", min: 0.005, max: 1, step: 0.005, value: 0.1 },
      { name: "beta1", label: "β₁", min: 0, max: 0.99, step: 0.01, value: 0.9 },
      { name: "beta2", label: "β₂", min: 0.5, max: 0.999, step: 0.001, value: 0.999 },
      { name: "sigma", label: "噪声 σ", min: 0, max: 3, step: 0.1, value: 1 },
      { name: "seed", label: "种子", min: 0, max: 99, step: 1, value: 0 },
      { name: "steps", label: "步数", min: 20, max: 500, step: 10, value: 200 },
    ],
    setup: function (ex) {
      return { c: new Plot(ex.plots, "Adam 的路径", "x₁", "x₂"), l: new Plot(ex.plots, "函数值 f(x_k) − f*（对数坐标）", "迭代次数 k", "f(x_k) − f*（对数坐标）") };
    },
    render: function (v, view) {
      var q = Q5(), x0 = [-5, -2];
      var r = S.adam(S.noisyGradient(q, v.sigma, S.mulberry32(v.seed)), q.value, x0, v.lr, v.beta1, v.beta2, 1e-8, v.steps);
      // the default (0.9, 0.999) on the same noise, faint, once the reader has moved β₁ or β₂
      var ghost = v.beta1 === 0.9 && v.beta2 === 0.999 ? null :
        S.adam(S.noisyGradient(q, v.sigma, S.mulberry32(v.seed)), q.value, x0, v.lr, 0.9, 0.999, 1e-8, v.steps);
      var gp = ghost ? [{ points: path(ghost.xs), cls: "sgdx-c4 sgdx-under", label: "默认 β₁ = 0.9，β₂ = 0.999（同一噪声）" }] : [];
      var gl = ghost ? [{ points: series(ghost.losses), cls: "sgdx-c4 sgdx-under", label: "默认 β₁ = 0.9，β₂ = 0.999" }] : [];
      view.c.draw({ equal: true, xlim: [-6, 6], ylim: [-2.5, 2.5], shapes: [ellipses(q, levelsFor(q, x0))],
        series: gp.concat([{ points: path(r.xs), cls: "sgdx-c1", markers: true, r: 1.5, label: "Adam 的迭代点" }]), marks: [{ x: 0, y: 0, cls: "sgdx-c3" }] });
      var mean = S.tailMean(r.losses);
      view.l.draw({ xlim: [0, v.steps], ylim: logRange(ghost ? [r.losses, ghost.losses] : [r.losses], 1e-12), logy: true,
        series: gl.concat([{ points: series(r.losses), cls: "sgdx-c1", label: "Adam" }, { points: [[0, mean], [v.steps, mean]], cls: "sgdx-c3", dash: true, label: "后一半步的平均" }]) });
      return (r.diverged ? runStatus(r, "Adam") + "。" : null) || "Adam " + (r.xs.length - 1) + " 步后 f = " + fmt(r.losses[r.losses.length - 1]) + "，后一半步的平均 f = " + fmt(mean) + "。";
    },
  };

  // ch6: schedules and SGD on the chapter's linear-regression model
  var LINREG = {};
  function linregData(seed) {
    if (!LINREG[seed]) {
      var d = S.linregData(1000, 0.01, seed);
      d.fstar = S.linregFstar(d).fstar;
      LINREG[seed] = d;
    }
    return LINREG[seed];
  }
  SPECS["schedules"] = {
    title: "学习率计划：本章的线性回归（1,000 个样本，w = (2, −3.4)，b = 4.2，噪声 0.01）上的小批量 SGD，每次迭代调用一次计划",
    params: [
      { name: "kind", label: "计划", options: [["step", "阶梯衰减"], ["cosine", "余弦退火"], ["warmup", "线性预热 + 余弦"], ["onecycle", "OneCycle"], ["inverse", "反时间衰减"], ["constant", "常数"]], value: "cosine" },
      { name: "lr0", label: "初始（峰值）学习率 η₀", min: 0.01, max: 2.5, step: 0.01, value: 0.2 },
      { name: "batch", label: "批量大小 b", min: 1, max: 100, step: 1, value: 10 },
      { name: "epochs", label: "轮数", min: 1, max: 10, step: 1, value: 3 },
      { name: "seed", label: "种子", min: 0, max: 99, step: 1, value: 0 },
      { name: "stepFrac", label: "阶梯间隔（占总迭代的比例）", min: 0.05, max: 1, step: 0.05, value: 0.3, when: function (v) { return v.kind === "step"; } },
      { name: "gamma", label: "阶梯因子 γ", min: 0.05, max: 1, step: 0.05, value: 0.1, when: function (v) { return v.kind === "step"; } },
      { name: "warmFrac", label: "预热步数（占总迭代的比例）", min: 0.05, max: 0.5, step: 0.05, value: 0.1, when: function (v) { return v.kind === "warmup"; } },
      { name: "startFactor", label: "预热起始因子 s", min: 0, max: 1, step: 0.05, value: 0.1, when: function (v) { return v.kind === "warmup"; } },
      { name: "pctStart", label: "上升阶段比例 p", min: 0.05, max: 0.9, step: 0.05, value: 0.3, when: function (v) { return v.kind === "onecycle"; } },
      { name: "k", label: "衰减率 k（每次迭代）", min: 0, max: 0.2, step: 0.005, value: 0.02, when: function (v) { return v.kind === "inverse"; } },
    ],
    setup: function (ex) {
      return { lr: new Plot(ex.plots, "每次迭代的学习率", "迭代次数 t", "学习率 η_t"), loss: new Plot(ex.plots, "超额损失 f − f*（对数坐标）", "迭代次数 t", "全部数据上的 f − f*（对数坐标）") };
    },
    render: function (v, view) {
      var d = linregData(v.seed), batches = S.epochBatches(1000, v.batch, v.epochs, v.seed + 1), T = batches.length;
      var p = { stepSize: Math.max(1, Math.round(v.stepFrac * T)), gamma: v.gamma, etaMin: 0,
                warmup: Math.max(1, Math.min(T - 2, Math.round(v.warmFrac * T))), startFactor: v.startFactor, pctStart: v.pctStart, k: v.k };
      var kind = T < 3 && v.kind === "warmup" ? "constant" : v.kind;
      var lrs = S.lrCurve(kind, p, v.lr0, T), run = S.linregSGD(d, batches, lrs);
      view.lr.draw({ xlim: [0, T], ylim: [0, Math.max.apply(null, lrs) * 1.1 || 1], series: [{ points: series(lrs), cls: "sgdx-c1", label: "η_t" }] });
      var excess = run.losses.map(function (l) { return l - d.fstar; });
      view.loss.draw({ xlim: [0, T], ylim: logRange([excess], 1e-12), logy: true,
        series: [{ points: series(excess), cls: "sgdx-c2", label: "超额损失 f(w_t, b_t) − f*（f* = " + fmt(d.fstar) + "，最小二乘的最小损失）" }] });
      var n = run.losses.length - 1;
      if (run.diverged) return "发散：第 " + n + " 步后函数值的量级超过 1e+12，已停止（共 " + T + " 次迭代）。";
      var fin = run.losses[n];
      return T + " 次迭代后损失 " + fmt(fin) + "，超额损失 f − f* = " + fmt(fin - d.fstar) + "（f* = " + fmt(d.fstar) + "）；最后一次迭代的学习率 " + fmt(lrs[T - 1]) + "。";
    },
  };

  // Each explorer is built when it comes within a screen of the viewport: building one runs its
  // algorithm and draws its plots, work a phone would otherwise do at load for explorers far
  // below the first screen (Lighthouse counted it as blocking time). A linked setting
  // (?KIND.name=value) or an anchor inside the explorer builds it at once.
  function start() {
    var roots = document.querySelectorAll(".sgdx[data-explorer]"), io = null;
    var hash = window.location.hash ? document.getElementById(decodeURIComponent(window.location.hash.slice(1))) : null;
    function make(root) {
      var kind = root.getAttribute("data-explorer");
      if (SPECS[kind] && !root.hasAttribute("data-started")) {
        root.setAttribute("data-started", "");
        new Explorer(root, SPECS[kind]);
      }
    }
    if (window.IntersectionObserver) {
      io = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) { if (e.isIntersecting) { io.unobserve(e.target); make(e.target); } });
      }, { rootMargin: "100% 0px" });
    }
    for (var i = 0; i < roots.length; i++) {
      var kind = roots[i].getAttribute("data-explorer");
      var linked = window.location.search.indexOf(kind + ".") >= 0 || (hash && roots[i].contains(hash));
      if (io && !linked) io.observe(roots[i]); else make(roots[i]);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
