using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Cadre.Common;
using Cadre.Workflows;

namespace Cadre.Bench.Micro;

/// <summary>
/// Saving a 200-step workflow: normalise and validate (schemas, templates, DAG, reads). The baseline
/// reads the same JSON into the definition records, the least a save must do.
/// </summary>
[MemoryDiagnoser]
public class WorkflowBenchmarks
{
    private string _json = null!;
    private WorkflowSpec _spec = null!;

    [GlobalSetup]
    public void Setup()
    {
        var steps = new JsonArray();
        for (var i = 0; i < 200; i++)
        {
            var dependsOn = i == 0 ? new JsonArray() : i % 10 == 0 ? new JsonArray($"s{i - 1}", $"s{i - 10}") : new JsonArray($"s{i - 1}");
            steps.Add(i % 2 == 0
                ? new JsonObject
                {
                    ["id"] = $"s{i}",
                    ["activity"] = new JsonObject { ["uniqueIdentifier"] = "http" },
                    ["dependsOn"] = dependsOn,
                    ["input"] = new JsonObject
                    {
                        ["url"] = $"https://api.example.com/items/{{{{ context.body.id }}}}/{i}",
                        ["method"] = "POST",
                        ["body"] = new JsonObject { ["previous"] = i == 0 ? "{{ context.body }}" : $"{{{{ steps.s{i - 1}.output.total + 1 }}}}" },
                    },
                    ["retryPolicy"] = new JsonObject { ["maximumAttempts"] = 5, ["initialInterval"] = "1s" },
                    ["when"] = new JsonObject { ["{{ context.body.enabled }}"] = new JsonObject { ["~eq"] = true } },
                }
                : new JsonObject
                {
                    ["id"] = $"s{i}",
                    ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" },
                    ["dependsOn"] = dependsOn,
                    ["input"] = new JsonObject { ["total"] = $"{{{{ sum(map(steps.s{i - 1}.output.body.items, x => x.qty)) }}}}", ["label"] = "step {{ run.id }}" },
                });
        }

        _json = new JsonObject { ["name"] = "two-hundred", ["type"] = "manual", ["steps"] = steps }.ToJsonString();
        _spec = JsonSerializer.Deserialize<WorkflowSpec>(_json, StrictJson.Options)!;
        var errors = new ValidationErrors();
        WorkflowRules.Validate(WorkflowRules.Normalize(_spec), errors);
        if (!errors.IsEmpty)
        {
            throw new InvalidOperationException("The benchmark workflow is invalid: " + string.Join("; ", errors.ToDictionary().Select(e => $"{e.Key}: {e.Value[0]}")));
        }
    }

    [Benchmark(Baseline = true, Description = "read the JSON (200 steps)")]
    public WorkflowSpec Read() => JsonSerializer.Deserialize<WorkflowSpec>(_json, StrictJson.Options)!;

    [Benchmark(Description = "normalise and validate (200 steps)")]
    public bool Validate()
    {
        var errors = new ValidationErrors();
        WorkflowRules.Validate(WorkflowRules.Normalize(_spec), errors);
        return errors.IsEmpty;
    }
}
