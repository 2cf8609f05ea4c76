import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";

export type ChartName = "active-learners" | "enrollments" | "drop-off" | "grades";

/**
 * One analytics chart: the SVG route needs the bearer token, so it is fetched with the typed client and shown
 * through an object URL (the CSP allows `img-src blob:`). An <img> also keeps the SVG's scripts, if any, inert.
 */
export function ChartImage({ courseId, chart, alt }: { courseId: string; chart: ChartName; alt: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let objectUrl: string | null = null;
    let live = true;
    void api
      .GET("/v1/courses/{courseId}/analytics/charts/{chart}", { params: { path: { courseId, chart } }, parseAs: "blob" })
      .then(({ data }) => {
        if (!live) return;
        if (data) setUrl((objectUrl = URL.createObjectURL(data)));
        else setFailed(true);
      })
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [courseId, chart]);
  if (failed) return <p>The chart could not be loaded; the numbers are in the table.</p>;
  return url ? <img src={url} alt={alt} /> : <p aria-busy="true">Loading the chart…</p>;
}
