import { useState } from "preact/hooks";
import { problemOf, type Problem } from "../api/client";
import { putToBlob, type UploadGrant } from "./upload";
import type { CallResult } from "./use-api";

export interface BlobUpload {
  /** 0..1 while the bytes go to storage (show it in a <progress>), null otherwise. */
  progress: number | null;
  /** Why the last upload failed (grant refused, storage refused, confirm refused), for <Problem>. */
  problem: Problem | null;
  pending: boolean;
  /**
   * Asks the API for a grant, sends the file straight to Blob with it, then confirms when the route asks for
   * that. Resolves to the grant (it names the blob) or null when a step failed (`problem` says which).
   */
  upload: <G extends UploadGrant>(file: File, grant: () => Promise<CallResult<G>>, confirm?: (grant: G) => Promise<CallResult<unknown>>) => Promise<G | null>;
  clear: () => void;
}

/** Grant → PUT to Blob → confirm, with progress and one error path, for every upload in the app. */
export function useBlobUpload(): BlobUpload {
  const [progress, setProgress] = useState<number | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [pending, setPending] = useState(false);
  const upload = async <G extends UploadGrant>(file: File, grant: () => Promise<CallResult<G>>, confirm?: (grant: G) => Promise<CallResult<unknown>>): Promise<G | null> => {
    setPending(true);
    setProblem(null);
    try {
      const granted = await grant();
      if (granted.error || !granted.data || !granted.response.ok) {
        setProblem(problemOf(granted.error, granted.response));
        return null;
      }
      setProgress(0);
      try {
        await putToBlob(granted.data, file, setProgress);
      } catch (err) {
        setProblem({ ...problemOf(null), title: err instanceof Error ? err.message : "The upload failed" });
        return null;
      } finally {
        setProgress(null);
      }
      if (confirm) {
        const confirmed = await confirm(granted.data);
        if (confirmed.error || !confirmed.response.ok) {
          setProblem(problemOf(confirmed.error, confirmed.response));
          return null;
        }
      }
      return granted.data;
    } catch {
      setProblem(problemOf(null));
      return null;
    } finally {
      setPending(false);
    }
  };
  return { progress, problem, pending, upload, clear: () => setProblem(null) };
}
