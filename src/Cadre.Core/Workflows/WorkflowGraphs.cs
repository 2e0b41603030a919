using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Expressions;

namespace Cadre.Workflows;

/// <summary>The steps as a DAG: each step's own rules, dependencies, cycles, loops, what templates may read, and the builder's graph.</summary>
public static class WorkflowGraphs
{
    internal static void Validate(WorkflowSpec spec, ValidationErrors errors)
    {
        var steps = spec.Steps!;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i] is not { } step)
            {
                errors.Add($"steps[{i}]", "Must be an object.");
                continue;
            }

            if (step.Id is not { } id || !WorkflowRules.Identifier().IsMatch(id))
            {
                errors.Add($"steps[{i}].id", "Is required: a letter, then letters, digits, _ or - (at most 64).");
            }
            else if (!index.TryAdd(id, i))
            {
                errors.Add($"steps[{i}].id", $"'{id}' is already the ID of steps[{index[id]}].");
            }
        }

        var dependencies = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i] is not { Id: { } id } step || !index.TryGetValue(id, out var at) || at != i)
            {
                continue;
            }

            var own = new List<string>();
            for (var d = 0; d < step.DependsOn!.Count; d++)
            {
                var dependency = step.DependsOn[d];
                var field = $"steps[{i}].dependsOn[{d}]";
                if (dependency == id)
                {
                    errors.Add(field, "A step cannot depend on itself.");
                }
                else if (dependency is null || !index.ContainsKey(dependency))
                {
                    errors.Add(field, $"'{dependency}' is not a step of this workflow.");
                }
                else if (own.Contains(dependency))
                {
                    errors.Add(field, $"'{dependency}' is listed twice.");
                }
                else
                {
                    own.Add(dependency);
                }
            }

            dependencies[id] = own;
        }

        var cycle = FindCycle(dependencies);
        if (cycle is not null)
        {
            errors.Add($"steps[{index[cycle[0]]}].dependsOn", $"The steps depend on each other in a cycle: {string.Join(" → ", cycle)}.");
        }

        var loops = ValidateLoops(steps, index, dependencies, spec.Defaults!.MaxIterations!.Value, errors);
        // What a step may read: its ancestors, and inside a loop the loop's other steps (their previous pass).
        var ancestors = cycle is null ? Ancestors(dependencies) : null;
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i] is { Id: { } id } step && index.TryGetValue(id, out var at) && at == i)
            {
                var readable = ancestors is null ? null : new HashSet<string>(ancestors[id], StringComparer.Ordinal);
                if (readable is not null && loops.TryGetValue(id, out var siblings))
                {
                    readable.UnionWith(siblings);
                }

                ValidateStep(step, $"steps[{i}]", index, readable, errors);
            }
        }

        ValidateGraph(spec.Graph, index, dependencies, errors);
    }

    private static void ValidateStep(WorkflowStep step, string field, Dictionary<string, int> index, HashSet<string>? readable, ValidationErrors errors)
    {
        WorkflowRules.Length(step.Name, $"{field}.name", 200, errors);
        var activity = ValidateActivity(step.Activity, step.Input, $"{field}.activity", $"{field}.input", errors);
        if (activity?.UniqueIdentifier == "loop" && step.Loop is null)
        {
            errors.Add($"{field}.loop", "A loop step needs a loop: its body, until and maxIterations.");
        }
        else if (step.Loop is not null && activity is not null && activity.UniqueIdentifier != "loop")
        {
            errors.Add($"{field}.loop", "Only a loop step (activity loop) has a loop.");
        }

        if (step.IsSleep == true)
        {
            if (activity is not null && activity.UniqueIdentifier != "sleep")
            {
                errors.Add($"{field}.isSleep", "A sleep step runs the sleep activity; leave activity out or set it to sleep.");
            }

            if (step.Sleep is not null)
            {
                WorkflowRules.Duration(step.Sleep, $"{field}.sleep", TimeSpan.FromDays(365), errors);
            }
        }

        var input = WorkflowRules.Templates(step.Input, $"{field}.input", WorkflowRules.StepRoots, errors);
        CheckReads(input, $"{field}.input", index, readable, errors);
        if (step.When is { } when)
        {
            CheckReads(ParseFilter(when, $"{field}.when", errors)?.Expressions.Select(e => ("", e)), $"{field}.when", index, readable, errors);
        }

        WorkflowRules.ValidateRetry(step.RetryPolicy, $"{field}.retryPolicy", errors);
        WorkflowRules.Duration(step.Timeout, $"{field}.timeout", TimeSpan.FromDays(30), errors);
        WorkflowRules.OneOf(step.OnFailure, WorkflowRules.FailureModes, $"{field}.onFailure", errors);
        if (step.Compensation is { } compensation)
        {
            ValidateActivity(compensation.Activity, compensation.Input, $"{field}.compensation.activity", $"{field}.compensation.input", errors);
            var compensationInput = WorkflowRules.Templates(compensation.Input, $"{field}.compensation.input", WorkflowRules.StepRoots, errors);
            // A compensation undoes its own step, so it may read that step's output too.
            var undoing = readable is null ? null : new HashSet<string>(readable, StringComparer.Ordinal) { step.Id! };
            CheckReads(compensationInput, $"{field}.compensation.input", index, undoing, errors);
        }

        if (step.Approval is { } approval)
        {
            ValidateApproval(approval, $"{field}.approval", errors);
        }
    }

    private static ActivityReference? ValidateActivity(ActivityReference? reference, JsonNode? input, string field, string inputField, ValidationErrors errors)
    {
        if (reference?.UniqueIdentifier is not { } id)
        {
            errors.Add($"{field}.uniqueIdentifier", $"Is required: one of {string.Join(", ", ActivityRegistry.All.Keys)}.");
            return null;
        }

        if (!ActivityRegistry.All.TryGetValue(id, out var definition))
        {
            errors.Add($"{field}.uniqueIdentifier", $"'{id}' is not an activity; the activities are {string.Join(", ", ActivityRegistry.All.Keys)}.");
            return null;
        }

        if (definition.Find(reference.Version) is not { } version)
        {
            errors.Add($"{field}.version", $"'{id}' has no version {reference.Version}; it has {string.Join(", ", definition.Versions.Select(v => v.Version))}.");
            return reference;
        }

        version.Validate(input, inputField, errors);
        return reference;
    }

    internal static void ValidateApproval(ApprovalSpec approval, string field, ValidationErrors errors)
    {
        var approvers = approval.Approvers ?? [];
        if (approvers.Count == 0)
        {
            errors.Add($"{field}.approvers", "Is required: the team or user IDs who may decide.");
        }

        if (approval.Quorum is < 1)
        {
            errors.Add($"{field}.quorum", "Must be at least 1.");
        }
        else if (approvers.Count > 0 && approval.Quorum > approvers.Count)
        {
            errors.Add($"{field}.quorum", $"Is {approval.Quorum}, but only {approvers.Count} approvers are named.");
        }

        WorkflowRules.Duration(approval.Timeout, $"{field}.timeout", TimeSpan.FromDays(90), errors);
        WorkflowRules.OneOf(approval.OnTimeout, WorkflowRules.TimeoutActions, $"{field}.onTimeout", errors);
        if (approval.OnTimeout == "escalate" && approval.EscalateTo is null or { Count: 0 })
        {
            errors.Add($"{field}.escalateTo", "Is required when onTimeout is escalate.");
        }

        if (approval.OnTimeout != "escalate" && approval.EscalateTo is { Count: > 0 })
        {
            errors.Add($"{field}.escalateTo", "Only applies when onTimeout is escalate.");
        }
    }

    /// <summary>Checks each loop; answers, for every step in a loop, the other steps of that loop (what it may read from a previous pass).</summary>
    private static Dictionary<string, HashSet<string>> ValidateLoops(
        IReadOnlyList<WorkflowStep> steps, Dictionary<string, int> index, Dictionary<string, List<string>> dependencies, int defaultIterations, ValidationErrors errors)
    {
        var members = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i] is not { Id: { } id, Loop: { } loop })
            {
                continue;
            }

            var field = $"steps[{i}].loop";
            var body = loop.Body ?? [];
            if (body.Count == 0)
            {
                errors.Add($"{field}.body", "Is required: the IDs of the steps the loop repeats.");
            }

            var group = new HashSet<string>(StringComparer.Ordinal) { id };
            for (var b = 0; b < body.Count; b++)
            {
                var member = body[b];
                if (member == id)
                {
                    errors.Add($"{field}.body[{b}]", "A loop cannot repeat itself.");
                }
                else if (member is null || !index.ContainsKey(member))
                {
                    errors.Add($"{field}.body[{b}]", $"'{member}' is not a step of this workflow.");
                }
                else if (owner.TryGetValue(member, out var other) && other != id)
                {
                    errors.Add($"{field}.body[{b}]", $"'{member}' is already in the body of loop '{other}'.");
                }
                else
                {
                    owner[member] = id;
                    group.Add(member);
                }
            }

            // A body step runs when the loop starts a pass: it must hang off the loop step through the body.
            var reached = new HashSet<string>(StringComparer.Ordinal) { id };
            bool grew;
            do
            {
                grew = false;
                foreach (var member in group.Where(m => !reached.Contains(m) && dependencies.TryGetValue(m, out var deps) && deps.Any(reached.Contains)).ToList())
                {
                    reached.Add(member);
                    grew = true;
                }
            }
            while (grew);

            foreach (var unreachable in group.Where(m => !reached.Contains(m)))
            {
                errors.Add($"{field}.body", $"'{unreachable}' can never run in the loop: it must depend on '{id}' or on another step of the body.");
            }

            var maxIterations = loop.MaxIterations ?? defaultIterations;
            if (maxIterations is < 1 or > 1000)
            {
                errors.Add($"{field}.maxIterations", "Must be between 1 and 1000.");
            }

            if (loop.Until is { } until)
            {
                var filter = ParseFilter(until, $"{field}.until", errors);
                var readable = new HashSet<string>(group, StringComparer.Ordinal);
                foreach (var expression in filter?.Expressions ?? [])
                {
                    foreach (var read in expression.MembersOf("steps").Where(s => !readable.Contains(s) && index.ContainsKey(s) && !IsAncestor(s, id, dependencies)))
                    {
                        errors.Add($"{field}.until", $"Reads steps.{read}, which is neither in the loop nor before it.");
                    }
                }
            }

            foreach (var member in group)
            {
                members[member] = group;
            }
        }

        return members;
    }

    private static Filter? ParseFilter(JsonObject filter, string field, ValidationErrors errors)
    {
        try
        {
            var parsed = Filter.Parse(filter, new ExpressionOptions { Roots = WorkflowRules.StepRoots });
            WorkflowRules.SecretsByName(parsed.Expressions.Select(e => ("", e)), field, errors);
            return parsed;
        }
        catch (FilterException ex)
        {
            errors.Add(ex.Path.Length == 0 ? field : $"{field}.{ex.Path}", ex.Problem);
            return null;
        }
    }

    /// <summary>Checks that templates read only steps that exist and run before; errors name the string holding the template.</summary>
    private static void CheckReads(
        JsonTemplate? template, string field, Dictionary<string, int> index, HashSet<string>? readable, ValidationErrors errors) =>
        CheckReads(template?.Placeholders, field, index, readable, errors);

    private static void CheckReads(
        IEnumerable<(string Path, Expression Expression)>? placeholders, string field, Dictionary<string, int> index, HashSet<string>? readable, ValidationErrors errors)
    {
        var reads = (placeholders ?? []).SelectMany(p => p.Expression.MembersOf("steps").Select(step => (p.Path, Step: step))).Distinct();
        foreach (var (path, read) in reads)
        {
            var at = path.Length == 0 ? field : $"{field}.{path}";
            if (!index.ContainsKey(read))
            {
                errors.Add(at, $"Reads steps.{read}, but there is no step '{read}'.");
            }
            else if (readable is not null && !readable.Contains(read))
            {
                errors.Add(at, $"Reads steps.{read}, which does not run before this step; add it to dependsOn.");
            }
        }
    }

    /// <summary>A cycle as step IDs, first repeated at the end (a → b → a), or null.</summary>
    internal static List<string>? FindCycle(Dictionary<string, List<string>> dependencies)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();
        foreach (var start in dependencies.Keys)
        {
            if (Visit(start) is { } cycle)
            {
                return cycle;
            }
        }

        return null;

        List<string>? Visit(string node)
        {
            switch (state.GetValueOrDefault(node))
            {
                case 1:
                    return [.. path.Skip(path.IndexOf(node)), node];
                case 2:
                    return null;
            }

            state[node] = 1;
            path.Add(node);
            foreach (var next in dependencies.GetValueOrDefault(node) ?? [])
            {
                if (Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
    }

    private static Dictionary<string, HashSet<string>> Ancestors(Dictionary<string, List<string>> dependencies)
    {
        var result = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var id in dependencies.Keys)
        {
            Of(id);
        }

        return result;

        HashSet<string> Of(string id)
        {
            if (result.TryGetValue(id, out var known))
            {
                return known;
            }

            var all = new HashSet<string>(StringComparer.Ordinal);
            result[id] = all;
            foreach (var dependency in dependencies.GetValueOrDefault(id) ?? [])
            {
                all.Add(dependency);
                all.UnionWith(Of(dependency));
            }

            return all;
        }
    }

    private static bool IsAncestor(string candidate, string of, Dictionary<string, List<string>> dependencies)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(dependencies.GetValueOrDefault(of) ?? []);
        while (pending.TryPop(out var next))
        {
            if (next == candidate)
            {
                return true;
            }

            if (seen.Add(next))
            {
                foreach (var dependency in dependencies.GetValueOrDefault(next) ?? [])
                {
                    pending.Push(dependency);
                }
            }
        }

        return false;
    }

    private static void ValidateGraph(WorkflowGraph? graph, Dictionary<string, int> index, Dictionary<string, List<string>> dependencies, ValidationErrors errors)
    {
        if (graph is null)
        {
            return;
        }

        var nodes = graph.Nodes ?? [];
        var placed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            var id = nodes[i]?.Id;
            if (id is null || !index.ContainsKey(id))
            {
                errors.Add($"graph.nodes[{i}].id", $"'{id}' is not a step of this workflow.");
            }
            else if (!placed.Add(id))
            {
                errors.Add($"graph.nodes[{i}].id", $"Step '{id}' has two nodes.");
            }

            if (nodes[i]?.Data is { } data && System.Text.Encoding.UTF8.GetByteCount(data.ToJsonString()) > 4096)
            {
                errors.Add($"graph.nodes[{i}].data", "Must be at most 4 KiB of JSON.");
            }
        }

        foreach (var missing in index.Keys.Where(id => !placed.Contains(id)))
        {
            errors.Add("graph.nodes", $"Step '{missing}' has no node.");
        }

        var edges = graph.Edges ?? [];
        var drawn = new HashSet<(string, string)>();
        for (var i = 0; i < edges.Count; i++)
        {
            var (source, target) = (edges[i]?.Source ?? "", edges[i]?.Target ?? "");
            if (!dependencies.TryGetValue(target, out var deps) || !deps.Contains(source))
            {
                errors.Add($"graph.edges[{i}]", $"There is no dependency {source} → {target}: '{target}' does not list '{source}' in dependsOn.");
            }
            else
            {
                drawn.Add((source, target));
            }
        }

        foreach (var (target, deps) in dependencies)
        {
            foreach (var source in deps.Where(source => !drawn.Contains((source, target))))
            {
                errors.Add("graph.edges", $"The dependency {source} → {target} has no edge.");
            }
        }
    }

    /// <summary>A layout for steps saved without one: layers by dependency depth, left to right.</summary>
    public static WorkflowGraph Layout(IReadOnlyList<WorkflowStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var valid = steps.Where(s => s?.Id is not null).GroupBy(s => s.Id!, StringComparer.Ordinal).Select(g => g.First()).ToList();
        var ids = valid.Select(s => s.Id!).ToHashSet(StringComparer.Ordinal);
        var dependencies = valid.ToDictionary(s => s.Id!, s => (s.DependsOn ?? []).Where(d => d is not null && ids.Contains(d) && d != s.Id).Distinct().ToList(), StringComparer.Ordinal);
        if (FindCycle(dependencies) is not null)
        {
            // Validation refuses a cycle; lay the steps out in a row meanwhile.
            return new WorkflowGraph
            {
                Nodes = [.. valid.Select((s, i) => new GraphNode { Id = s.Id, Position = new GraphPosition(i * 260, 0) })],
                Edges = [.. dependencies.SelectMany(d => d.Value.Select(source => new GraphEdge { Source = source, Target = d.Key }))],
            };
        }

        var depth = new Dictionary<string, int>(StringComparer.Ordinal);
        int Depth(string id) => depth.TryGetValue(id, out var known) ? known : depth[id] = dependencies[id].Count == 0 ? 0 : dependencies[id].Max(Depth) + 1;
        var rows = new Dictionary<int, int>();
        var nodes = new List<GraphNode>();
        foreach (var step in valid)
        {
            var column = Depth(step.Id!);
            var row = rows.GetValueOrDefault(column);
            rows[column] = row + 1;
            nodes.Add(new GraphNode { Id = step.Id, Position = new GraphPosition(column * 260, row * 140) });
        }

        return new WorkflowGraph
        {
            Nodes = nodes,
            Edges = [.. valid.SelectMany(s => dependencies[s.Id!].Select(source => new GraphEdge { Source = source, Target = s.Id }))],
        };
    }
}
