// Render timings through the browser's Performance API, so the e2e run can report how long a page takes
// from its data arriving to the next frame (docs/benchmarks.md). Marks cost microseconds; nothing is sent anywhere.
import { useEffect } from "react";

/** Marks that `name`'s data arrived: call when the fetch resolves, before setting state. */
export function markDataArrived(name: string) {
  performance.clearMarks(`cadre:${name}:data`);
  performance.mark(`cadre:${name}:data`);
}

/**
 * After the render that shows `data`, measures `cadre:<name>:render` from the data mark to the next animation
 * frame, which starts after React committed the rows and the browser laid them out.
 */
export function useRenderTiming(name: string, data: unknown) {
  useEffect(() => {
    if (data == null || performance.getEntriesByName(`cadre:${name}:data`, "mark").length === 0) return;
    const frame = requestAnimationFrame(() => {
      performance.clearMeasures(`cadre:${name}:render`);
      performance.measure(`cadre:${name}:render`, `cadre:${name}:data`);
      performance.clearMarks(`cadre:${name}:data`);
    });
    return () => cancelAnimationFrame(frame);
  }, [name, data]);
}
