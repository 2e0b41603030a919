namespace Cadre.Runs;

/// <summary>How the engine runs work on this node. Section <c>Cadre:Engine</c>.</summary>
public sealed class EngineOptions
{
    public const string SectionName = "Cadre:Engine";

    /// <summary>Whether this node runs workers at all (an API-only node sets false).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Tasks run at once on this node. Default: 4 × processor count.</summary>
    public int Workers { get; set; } = 4 * Environment.ProcessorCount;

    /// <summary>How long a leased task is this node's before another may take it over; renewed while it runs.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often idle workers look for work that no signal announced (timers, other nodes' tasks, expired leases).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Most pure steps one commit runs inline before checkpointing (bounds a transaction's size).</summary>
    public int MaxInlineSteps { get; set; } = 1000;

    /// <summary>Most runs of the whole workspace at once (0: no limit), on top of each workflow's own limit.</summary>
    public int MaxRunsPerWorkspace { get; set; }
}
