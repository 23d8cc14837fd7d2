/* sgdbook explorers: the pure numerics (no DOM). Loaded by the browser as a plain script
 * (window.SGDX) and by Node.js with require() (tests/test_explorers.py compares every rule
 * here with the sgdbook package to 1e-12). Each function mirrors one sgdbook function, in the
 * same order of floating-point operations where that is possible; the comments name it.
 * Random numbers: mulberry32 (a 32-bit generator, reimplemented in the Python test), not
 * NumPy's or torch's generators, so a seed here does not give the chapter's random stream. */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.SGDX = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";
  var THRESHOLD = 1e12; // sgdbook.theory.gd.DIVERGENCE_THRESHOLD

  function mulberry32(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      var t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  // One standard normal from two uniforms (Box-Muller, cosine branch only).
  function gaussian(rand) {
    var u1 = 1 - rand(), u2 = rand();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  function finite(x) {
    for (var i = 0; i < x.length; i++) if (!isFinite(x[i])) return false;
    return true;
  }
  function maxAbs(x) {
    var m = 0;
    for (var i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
    return m;
  }
  // sgdbook.theory.gd.divergence_message
  function divergenceMessage(step, x, loss) {
    if (!finite(x)) return "发散：第 " + step + " 步后迭代值出现 inf 或 nan，已停止";
    if (!(maxAbs(x) <= THRESHOLD)) return "发散：第 " + step + " 步后迭代值的量级超过 1e+12，已停止";
    if (loss !== undefined && !isFinite(loss)) return "发散：第 " + step + " 步后函数值出现 inf 或 nan，已停止";
    return "发散：第 " + step + " 步后函数值的量级超过 1e+12，已停止";
  }

  // sgdbook.problems.objectives.Quadratic: f(x) = 1/2 x'Ax - b'x + c
  function quadratic(A, b, c) {
    var d = A.length;
    b = b || new Array(d).fill(0);
    c = c || 0;
    function matvec(x) { // A @ x
      var out = [];
      for (var i = 0; i < d; i++) { var s = 0; for (var j = 0; j < d; j++) s += A[i][j] * x[j]; out.push(s); }
      return out;
    }
    return {
      A: A, b: b, c: c, dim: d,
      value: function (x) { // ((0.5 * x) @ A) @ x - b @ x + c
        var s = 0, bx = 0;
        for (var j = 0; j < d; j++) { var r = 0; for (var i = 0; i < d; i++) r += (0.5 * x[i]) * A[i][j]; s += r * x[j]; }
        for (var k = 0; k < d; k++) bx += b[k] * x[k];
        return s - bx + c;
      },
      grad: function (x) { var g = matvec(x); for (var i = 0; i < d; i++) g[i] -= b[i]; return g; },
    };
  }
  function axpy(x, a, g) { var out = []; for (var i = 0; i < x.length; i++) out.push(x[i] - a * g[i]); return out; }
  function blownUp(x, loss) {
    return !finite(x) || !isFinite(loss) || maxAbs(x) > THRESHOLD || Math.abs(loss) > THRESHOLD;
  }

  // sgdbook.theory.gd.gradient_descent (without grad_tol)
  function gradientDescent(obj, x0, lr, steps) {
    var x = x0.slice(), xs = [x], losses = [obj.value(x)], diverged = false;
    for (var k = 0; k < steps; k++) {
      x = axpy(x, lr, obj.grad(x));
      var loss = obj.value(x);
      xs.push(x); losses.push(loss);
      if (blownUp(x, loss)) { diverged = true; break; }
    }
    return { xs: xs, losses: losses, diverged: diverged };
  }

  // sgdbook.theory.heavy_ball.heavy_ball: x_{k+1} = x_k - lr grad f(x_k) + beta (x_k - x_{k-1}), x_{-1} = x_0
  function heavyBall(obj, x0, lr, beta, steps) {
    var x = x0.slice(), xp = x0.slice(), xs = [x], losses = [obj.value(x)], diverged = false;
    for (var k = 0; k < steps; k++) {
      var g = obj.grad(x), nx = [];
      for (var i = 0; i < x.length; i++) nx.push(x[i] - lr * g[i] + beta * (x[i] - xp[i]));
      xp = x; x = nx;
      var loss = obj.value(x);
      xs.push(x); losses.push(loss);
      if (!finite(x) || !isFinite(loss) || maxAbs(x) > THRESHOLD) { diverged = true; break; }
    }
    return { xs: xs, losses: losses, diverged: diverged };
  }

  // sgdbook.theory.heavy_ball.nesterov_sutskever: v <- mu v - lr grad f(theta + mu v); theta <- theta + v.
  // sgdbook runs all steps; here the run stops (diverged) once |theta| > THRESHOLD.
  function nesterov(obj, x0, lr, mu, steps) {
    var th = x0.slice(), v = x0.map(function () { return 0; }), xs = [th], losses = [obj.value(th)], diverged = false;
    for (var k = 0; k < steps; k++) {
      var look = [], i;
      for (i = 0; i < th.length; i++) look.push(th[i] + mu * v[i]);
      var g = obj.grad(look), nv = [], nt = [];
      for (i = 0; i < th.length; i++) nv.push(mu * v[i] - lr * g[i]);
      for (i = 0; i < th.length; i++) nt.push(th[i] + nv[i]);
      v = nv; th = nt;
      var loss = obj.value(th);
      xs.push(th); losses.push(loss);
      if (!finite(th) || !isFinite(loss) || maxAbs(th) > THRESHOLD) { diverged = true; break; }
    }
    return { xs: xs, losses: losses, diverged: diverged };
  }

  function lerp(a, b, w) { // torch.lerp: a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w)
    return Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
  }
  // sgdbook.optim.Adam (= torch.optim.Adam) driven as sgdbook.optim.run_optimizer does, with a
  // gradient oracle grad(x) and the true value for the losses.
  function adam(grad, value, x0, lr, beta1, beta2, eps, steps) {
    var x = x0.slice(), d = x.length, m = new Array(d).fill(0), v = new Array(d).fill(0);
    var xs = [x], losses = [value(x)], diverged = false;
    for (var t = 1; t <= steps; t++) {
      var g = grad(x), nx = [];
      var stepSize = (lr / (1 - Math.pow(beta1, t))) * -1, bc2 = Math.pow(1 - Math.pow(beta2, t), 0.5);
      for (var i = 0; i < d; i++) {
        m[i] = lerp(m[i], g[i], 1 - beta1);
        v[i] = v[i] * beta2 + (1 - beta2) * g[i] * g[i];
        var denom = Math.sqrt(v[i]) / bc2 + eps;
        nx.push(x[i] + (stepSize * m[i]) / denom); // torch addcdiv: self + value * t1 / t2
      }
      x = nx;
      var loss = value(x);
      xs.push(x); losses.push(loss);
      if (blownUp(x, loss)) { diverged = true; break; }
    }
    return { xs: xs, losses: losses, diverged: diverged };
  }
  // The gradient plus independent N(0, sigma^2) noise per coordinate, drawn from rand.
  function noisyGradient(obj, sigma, rand) {
    return function (x) { var g = obj.grad(x); for (var i = 0; i < g.length; i++) g[i] += sigma * gaussian(rand); return g; };
  }

  // sgdbook.problems.basin_batches.batch_run, every iterate: f = sin(t) + 0.1 t^2 as the mean of
  // f1 = 2 sin(t) (label 0) and f2 = 0.2 t^2 (label 1); labels floor(2u) from mulberry32(seed).
  // batch = 0: full gradient descent.
  function basinRun(batch, theta0, lr, steps, seed) {
    var th = theta0, out = [th], rand = mulberry32(seed), diverged = false;
    for (var k = 0; k < steps; k++) {
      if (batch === 0) th -= lr * (Math.cos(th) + 0.2 * th);
      else {
        var s = 0;
        for (var j = 0; j < batch; j++) s += Math.floor(rand() * 2) === 0 ? 2.0 * Math.cos(th) : 0.4 * th;
        th = th - lr * (s / batch);
      }
      out.push(th);
      if (!isFinite(th) || Math.abs(th) > THRESHOLD) { diverged = true; break; }
    }
    return { thetas: out, diverged: diverged };
  }
  function basinValue(t) { return Math.sin(t) + 0.1 * t * t; }

  // Synthetic one-feature regression with an intercept column: rows (x_i, 1), y_i = 2 x_i - 1 + eps_i,
  // x_i, eps_i ~ N(0, 1) from mulberry32(seed); per-example gradients of 1/2 (x_i'w - y_i)^2 at w
  // (sgdbook.problems.minibatch.per_example_gradients).
  function regressionGradients(n, seed, w) {
    var rand = mulberry32(seed), G = [];
    for (var i = 0; i < n; i++) {
      var x = gaussian(rand), y = 2 * x - 1 + gaussian(rand);
      var r = x * w[0] + 1 * w[1] - y;
      G.push([r * x, r * 1]);
    }
    return G;
  }
  // sgdbook.problems.minibatch.gradient_noise / noise_theory, the batches drawn from mulberry32(seed):
  // with replacement a draws x largest matrix of floor(n u); without, argsort of a draws x n matrix
  // of uniforms (row-major).
  function minibatchNoise(G, sizes, draws, replace, seed) {
    var n = G.length, d = G[0].length, rand = mulberry32(seed), largest = Math.max.apply(null, sizes), pool = [], i, j, k;
    for (i = 0; i < draws; i++) {
      var row = [];
      if (replace) for (j = 0; j < largest; j++) row.push(Math.floor(rand() * n));
      else {
        var u = []; for (j = 0; j < n; j++) u.push(rand());
        row = u.map(function (_, q) { return q; }).sort(function (p, q) { return u[p] - u[q] || p - q; });
      }
      pool.push(row);
    }
    var mean = new Array(d).fill(0);
    for (i = 0; i < n; i++) for (k = 0; k < d; k++) mean[k] += G[i][k];
    for (k = 0; k < d; k++) mean[k] /= n;
    var sigma2 = 0;
    for (i = 0; i < n; i++) { var e = 0; for (k = 0; k < d; k++) e += (G[i][k] - mean[k]) * (G[i][k] - mean[k]); sigma2 += e; }
    sigma2 /= n;
    var measured = [], theory = [];
    sizes.forEach(function (b) {
      var tot = 0;
      for (i = 0; i < draws; i++) {
        var e2 = 0;
        for (k = 0; k < d; k++) { var s = 0; for (j = 0; j < b; j++) s += G[pool[i][j]][k]; var dv = s / b - mean[k]; e2 += dv * dv; }
        tot += e2;
      }
      measured.push(Math.sqrt(tot / draws));
      var vv = sigma2 / b;
      if (!replace) vv = vv * (n - b) / (n - 1);
      theory.push(Math.sqrt(vv));
    });
    return { measured: measured, theory: theory, sigma: Math.sqrt(sigma2) };
  }

  // sgdbook.optim.schedules stepped once per iteration; the rates of iterations 0 .. T-1
  // (sgdbook.optim.schedules.lr_curve). kind: constant, step {stepSize, gamma}, cosine {etaMin}
  // (T_max = T - 1), warmup {warmup, startFactor} (LinearWarmup then CosineAnnealing with
  // T_max = T - 1 - warmup), onecycle {pctStart} (OneCycle(max_lr=lr0, total_steps=T),
  // div_factor 25, final_div_factor 1e4, cosine), inverse {k}.
  function cosineNext(lr, base, e, T, etaMin) { // CosineAnnealing._next_lr
    if (e === 0) return lr;
    if ((((e - 1 - T) % (2 * T)) + 2 * T) % (2 * T) === 0) return lr + (base - etaMin) * (1 - Math.cos(Math.PI / T)) / 2;
    return (1 + Math.cos(Math.PI * e / T)) / (1 + Math.cos(Math.PI * (e - 1) / T)) * (lr - etaMin) + etaMin;
  }
  function lrCurve(kind, p, lr0, T) {
    var out = [], lr = lr0, e;
    if (kind === "constant") for (e = 0; e < T; e++) out.push(lr0);
    else if (kind === "inverse") for (e = 0; e < T; e++) out.push(lr0 / (1 + p.k * e));
    else if (kind === "step") for (e = 0; e < T; e++) { if (e !== 0 && e % p.stepSize === 0) lr = lr * p.gamma; out.push(lr); }
    else if (kind === "cosine") {
      var Tm = Math.max(1, T - 1);
      for (e = 0; e < T; e++) { lr = cosineNext(lr, lr0, e, Tm, p.etaMin); out.push(lr); }
    } else if (kind === "warmup") {
      var W = p.warmup, s = p.startFactor, Ta = Math.max(1, T - 1 - W);
      lr = lr0 * s;
      for (e = 0; e < T; e++) {
        if (e === 0) lr = lr0 * s;
        else if (e < W) lr = s === 0 ? lr0 * (s + (1 - s) * e / W) : lr * (1 + (1 - s) / (W * s + (e - 1) * (1 - s)));
        else if (e === W) lr = 0 + (lr0 - 0) * (1 + Math.cos(Math.PI * 0 / Ta)) / 2;
        else lr = cosineNext(lr, lr0, e - W, Ta, 0);
        out.push(lr);
      }
    } else if (kind === "onecycle") {
      var init = lr0 / 25, minLr = init / 1e4, end = p.pctStart * T - 1, last = T - 1;
      for (e = 0; e < T; e++) {
        var a, b, pct;
        if (e <= end) { a = init; b = lr0; pct = e / end; } else { a = lr0; b = minLr; pct = (e - end) / (last - end); }
        out.push(b + (a - b) / 2.0 * (Math.cos(Math.PI * pct) + 1));
      }
    } else throw new Error("unknown schedule " + kind);
    return out;
  }

  // The chapter's linear-regression model (lr-decay.md): x ~ N(0, I_2), y = 2 x1 - 3.4 x2 + 4.2 + noise eps,
  // here drawn from mulberry32(seed), not NumPy's default_rng(0).
  function linregData(n, noise, seed) {
    var rand = mulberry32(seed), X = [], y = [];
    for (var i = 0; i < n; i++) {
      var x1 = gaussian(rand), x2 = gaussian(rand), e = gaussian(rand);
      X.push([x1, x2]); y.push(x1 * 2 + x2 * -3.4 + 4.2 + noise * e);
    }
    return { X: X, y: y };
  }
  function linregLoss(data, w, b) { // 0.5 * mean((X w + b - y)^2)
    var s = 0, n = data.y.length;
    for (var i = 0; i < n; i++) { var r = data.X[i][0] * w[0] + data.X[i][1] * w[1] + b - data.y[i]; s += r * r; }
    return 0.5 * (s / n);
  }
  // Shuffled mini-batches: one Fisher-Yates permutation per epoch (mulberry32(seed)), cut into
  // batches of `batch` (the last one may be short), as sgdbook.problems.linreg.epoch_batches does with torch.
  function epochBatches(n, batch, epochs, seed) {
    var rand = mulberry32(seed), out = [];
    for (var ep = 0; ep < epochs; ep++) {
      var perm = []; for (var i = 0; i < n; i++) perm.push(i);
      for (var j = n - 1; j > 0; j--) { var r = Math.floor(rand() * (j + 1)), t = perm[j]; perm[j] = perm[r]; perm[r] = t; }
      for (var s = 0; s < n; s += batch) out.push(perm.slice(s, s + batch));
    }
    return out;
  }
  // SGD (sgdbook.optim.SGD, no momentum) on the model from w = 0, b = 0 with the rates lrs
  // (one per iteration); gradient as sgdbook.problems.linreg.gradient: grad_w = X_B' r / m, grad_b = mean r.
  function linregSGD(data, batches, lrs) {
    var w = [0, 0], b = 0, losses = [linregLoss(data, w, b)], diverged = false;
    for (var t = 0; t < batches.length; t++) {
      var B = batches[t], m = B.length, g0 = 0, g1 = 0, gb = 0;
      for (var q = 0; q < m; q++) {
        var i = B[q], r = data.X[i][0] * w[0] + data.X[i][1] * w[1] + b - data.y[i];
        g0 += data.X[i][0] * r; g1 += data.X[i][1] * r; gb += r;
      }
      w = [w[0] - lrs[t] * (g0 / m), w[1] - lrs[t] * (g1 / m)]; b = b - lrs[t] * (gb / m);
      var loss = linregLoss(data, w, b);
      losses.push(loss);
      if (!isFinite(loss) || Math.abs(loss) > THRESHOLD || !finite(w) || maxAbs(w.concat([b])) > THRESHOLD) { diverged = true; break; }
    }
    return { losses: losses, w: w, b: b, diverged: diverged };
  }

  // sgdbook.problems.minibatch.loglog_slope: the least-squares slope of log y against log x.
  function loglogSlope(x, y) {
    var n = x.length, mx = 0, my = 0, sxx = 0, sxy = 0, i;
    for (i = 0; i < n; i++) { mx += Math.log(x[i]); my += Math.log(y[i]); }
    mx /= n; my /= n;
    for (i = 0; i < n; i++) { var dx = Math.log(x[i]) - mx; sxx += dx * dx; sxy += dx * (Math.log(y[i]) - my); }
    return sxy / sxx;
  }
  // The ch4 explorer's fit: the measured spreads at the batch sizes whose theory value is
  // positive (without replacement b = n has spread 0; what is measured there is rounding,
  // about 1e-16, and is left out of the fit and of the plot). Returns the kept points and the slope.
  function noiseFit(sizes, measured, theory) {
    var bs = [], ms = [];
    for (var j = 0; j < sizes.length; j++) if (theory[j] > 0 && measured[j] > 0) { bs.push(sizes[j]); ms.push(measured[j]); }
    return { sizes: bs, measured: ms, slope: bs.length >= 2 ? loglogSlope(bs, ms) : NaN };
  }

  // ch3: the local maximum of sin(t) + 0.1 t^2 between the two basins (f'(t) = cos t + 0.2 t = 0
  // near 2), by Newton's method (sgdbook.problems.stochastic.NONCONVEX_LOCAL_MAX).
  var THETA_MAX = (function () {
    var t = 2;
    for (var i = 0; i < 50; i++) t -= (Math.cos(t) + 0.2 * t) / (-Math.sin(t) + 0.2);
    return t;
  })();

  // The mean of the losses of the second half of a run, from index floor(len / 2) on (the Adam
  // explorer's dashed line).
  function tailMean(losses) {
    var last = losses.slice(Math.floor(losses.length / 2)), s = 0;
    for (var i = 0; i < last.length; i++) s += last[i];
    return s / last.length;
  }

  // f* of the ch6 model: the least-squares loss at the solution of the normal equations
  // [X 1]'[X 1] z = [X 1]'y (Gaussian elimination on the 3 x 3 system; sgdbook.problems.linreg.least_squares_loss).
  function linregFstar(data) {
    var XtX = [[0, 0, 0], [0, 0, 0], [0, 0, 0]], Xty = [0, 0, 0], a, b, c, r, k, i, j;
    for (i = 0; i < data.y.length; i++) {
      var z = [data.X[i][0], data.X[i][1], 1];
      for (a = 0; a < 3; a++) { Xty[a] += z[a] * data.y[i]; for (b = 0; b < 3; b++) XtX[a][b] += z[a] * z[b]; }
    }
    for (c = 0; c < 3; c++) for (r = c + 1; r < 3; r++) {
      var m = XtX[r][c] / XtX[c][c];
      for (k = c; k < 3; k++) XtX[r][k] -= m * XtX[c][k];
      Xty[r] -= m * Xty[c];
    }
    var s = [0, 0, 0];
    for (i = 2; i >= 0; i--) { var t = Xty[i]; for (j = i + 1; j < 3; j++) t -= XtX[i][j] * s[j]; s[i] = t / XtX[i][i]; }
    return { w: [s[0], s[1]], b: s[2], fstar: linregLoss(data, [s[0], s[1]], s[2]) };
  }

  return {
    THRESHOLD: THRESHOLD, mulberry32: mulberry32, gaussian: gaussian, divergenceMessage: divergenceMessage,
    quadratic: quadratic, gradientDescent: gradientDescent, heavyBall: heavyBall, nesterov: nesterov,
    adam: adam, noisyGradient: noisyGradient, basinRun: basinRun, basinValue: basinValue,
    regressionGradients: regressionGradients, minibatchNoise: minibatchNoise, lrCurve: lrCurve,
    linregData: linregData, linregLoss: linregLoss, epochBatches: epochBatches, linregSGD: linregSGD,
    loglogSlope: loglogSlope, noiseFit: noiseFit, THETA_MAX: THETA_MAX, tailMean: tailMean, linregFstar: linregFstar,
  };
});
