// clew: one way to write a duration in the browser, the flame graph's and the scatter plot's.
"use strict";

// As read/format.py writes a duration: three significant figures, 393 µs, 12.3 ms, 3.97 s.
window.clewDuration = function human(ns) {
  const sig3 = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  if (ns < 1e3) return Math.round(ns) + " ns";
  if (ns / 1e3 < 999.5) return sig3(ns / 1e3) + " µs";
  if (ns / 1e6 < 999.5) return sig3(ns / 1e6) + " ms";
  if (ns < 59.95e9) return sig3(ns / 1e9) + " s";
  const s = Math.round(ns / 1e9);
  return Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s";
};
