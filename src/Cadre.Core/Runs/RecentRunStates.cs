using Microsoft.Extensions.Caching.Memory;

namespace Cadre.Runs;

/// <summary>
/// Each unfinished run's state as this node last committed it, so the next commit on the run (an
/// attempt's start, right after the commit that queued it) can skip reading it back. A copy goes in
/// and a copy comes out, so no two commits share tracked rows. Never trusted blindly: a commit made
/// from it saves only if the run row's version still matches, and loads afresh otherwise.
/// </summary>
internal sealed class RecentRunStates : IDisposable
{
    // What it serves is the commit that follows within milliseconds (an attempt's start after the
    // commit that queued it): a short life and a small count bound the memory it holds (step outputs).
    public const int Capacity = 2_000;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity });

    public void Remember(RunState state)
    {
        if (state.IsTerminal)
        {
            _cache.Remove(state.Run.Id);
            return;
        }

        // Without the decrypted secrets: the next commit decrypts afresh, and plaintext does not linger here.
        _cache.Set(state.Run.Id, Copy(state, withSecrets: false), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(10) });
    }

    /// <summary>A copy of the run's last committed state on this node, or null.</summary>
    public RunState? Recall(string runId) => _cache.TryGetValue(runId, out RunState? saved) ? Copy(saved!) : null;

    /// <summary>A copy with detached rows, for another commit (or another scope) to attach; with its secrets for an attempt handed over to run.</summary>
    internal static RunState Copy(RunState state, bool withSecrets = true) =>
        new(state.Run.Copy(), [.. state.Steps.Values.Select(s => s.Copy())], state.Workflow, state.WorkflowValues, state.Now)
        {
            Secrets = withSecrets ? state.Secrets : Secrets.ResolvedSecrets.None,
        };

    public void Dispose() => _cache.Dispose();
}
