// Static assets: our stylesheet and chart script, and uPlot served straight
// from node_modules/uplot/dist (no build step). Read once at start; only
// these names are served, so no path from a request reaches the file system.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface Asset {
  type: string;
  body: Buffer;
}

export function loadAssets(): Map<string, Asset> {
  const own = (name: string) => readFileSync(new URL(`./static/${name}`, import.meta.url));
  const uplotDist = join(dirname(createRequire(import.meta.url).resolve("uplot")), ".");
  const uplot = (name: string) => readFileSync(join(uplotDist, name));
  const js = "text/javascript; charset=utf-8";
  const css = "text/css; charset=utf-8";
  return new Map([
    ["/static/style.css", { type: css, body: own("style.css") }],
    ["/static/charts.js", { type: js, body: own("charts.js") }],
    ["/static/uplot/uPlot.iife.min.js", { type: js, body: uplot("uPlot.iife.min.js") }],
    ["/static/uplot/uPlot.min.css", { type: css, body: uplot("uPlot.min.css") }],
  ]);
}
