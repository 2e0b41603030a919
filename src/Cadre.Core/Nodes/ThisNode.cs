using System.Reflection;
using Cadre.Common;
using Cadre.Runs;
using Microsoft.Extensions.Options;

namespace Cadre.Nodes;

/// <summary>
/// This process as the cluster sees it: the ID it registers under in <c>nodes</c> and leases tasks
/// under (<see cref="RunWorker.Owner"/>), its name, role and version, and what its role lets it do.
/// Settings are read when asked for, after they were validated at start-up.
/// </summary>
internal sealed class ThisNode(IdGenerator ids, IOptions<NodeOptions> options, IOptions<EngineOptions> engine)
{
    /// <summary>A TypeID, new at every start, so lists page by it in start order.</summary>
    public string Id { get; } = ids.NewId(Node.IdPrefix);

    public string Name => string.IsNullOrWhiteSpace(options.Value.Name) ? $"{Environment.MachineName}/{Environment.ProcessId}" : options.Value.Name.Trim();

    public NodeRole Role => options.Value.ParsedRole;

    public static string Version { get; } =
        typeof(ThisNode).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Whether this node does the background duties (an <c>api</c> node leaves every one of them to the others).</summary>
    public bool RunsDuties => Role != NodeRole.Api;

    /// <summary>Whether this node's workers lease tasks, so it also returns those of dead nodes.</summary>
    public bool RunsWorkers => RunsDuties && engine.Value.Enabled;

    /// <summary>Whether this node answers the API (a <c>worker</c> node answers only the health probes).</summary>
    public bool ServesApi => Role != NodeRole.Worker;
}
