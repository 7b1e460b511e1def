import { describe, expect, it } from "vitest";
import { deltaWords, share, svgSource } from "./insight";

describe("insight words", () => {
  it("says shares and changes as people read them", () => {
    expect(share(1, 8)).toBe("12.5 %");
    expect(share(3, 0)).toBe("–");
    expect(deltaWords(212)).toBe("+212");
    expect(deltaWords(-1234)).toBe("\u22121,234");
    expect(deltaWords(0)).toBe("0");
  });

  it("turns any SVG, class names in any script included, into an image source", () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>猫 &amp; قط 🐱</text></svg>';
    const src = svgSource(svg);
    expect(src.startsWith("data:image/svg+xml;base64,")).toBe(true);
    const back = new TextDecoder().decode(Uint8Array.from(atob(src.split(",")[1]), (c) => c.charCodeAt(0)));
    expect(back).toBe(svg);
  });
});
