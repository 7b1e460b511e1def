// Insight in words and pictures: a share as a percentage, a change with its sign, and an SVG
// drawn by the backend as an image source. Pure, so it is tested without a window.

/** "12.5 %" of a total; "–" when there is no total. */
export function share(n: number, total: number): string {
  if (total <= 0) return "–";
  return `${((100 * n) / total).toFixed(1)} %`;
}

/** "+212", "−9" (a real minus sign), "0". */
export function deltaWords(n: number): string {
  if (n > 0) return `+${n.toLocaleString("en-US")}`;
  if (n < 0) return `\u2212${Math.abs(n).toLocaleString("en-US")}`;
  return "0";
}

/** An SVG document as an `<img>` source. Shown as an image, never inlined: an image cannot run
 *  script or reach the page, whatever a class name in the chart says. */
export function svgSource(svg: string): string {
  const bytes = new TextEncoder().encode(svg);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return `data:image/svg+xml;base64,${btoa(binary)}`;
}
