using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Workflows;

namespace Cadre.Tests.Workflows;

public sealed class WorkflowRulesTests
{
    private const string Valid = """
        {
          "name": "order-intake", "type": "event",
          "trigger": {"eventType": "order.created", "filters": {"{{ context.event.payload.total }}": {"~gt": 100}}},
          "steps": [
            {"id": "fetch", "activity": {"uniqueIdentifier": "http"}, "input": {"url": "https://api.example.com/orders/{{ context.event.payload.id }}", "method": "GET"},
             "retryPolicy": {"maximumAttempts": 5, "initialInterval": "2s", "backoffCoefficient": 2, "maximumInterval": "1m"}, "timeout": "30s"},
            {"id": "shape", "activity": {"uniqueIdentifier": "transform"}, "dependsOn": ["fetch"],
             "input": {"total": "{{ steps.fetch.output.body.total + 1 }}", "items": "{{ map(steps.fetch.output.body.items, 'sku') }}"}},
            {"id": "approve", "activity": {"uniqueIdentifier": "approval"}, "dependsOn": ["shape"], "input": {"message": "Ship {{ steps.shape.output.total }}?"},
             "approval": {"approvers": ["team_ops", "usr_lead"], "quorum": 2, "timeout": "1d", "onTimeout": "escalate", "escalateTo": ["usr_boss"]},
             "when": {"{{ steps.shape.output.total }}": {"~gte": 1000}}},
            {"id": "notify", "activity": {"uniqueIdentifier": "emit_event"}, "dependsOn": ["approve", "shape"], "input": {"type": "order.accepted", "payload": "{{ steps.shape.output }}"},
             "onFailure": "compensate", "compensation": {"activity": {"uniqueIdentifier": "http"}, "input": {"url": "https://api.example.com/undo/{{ steps.notify.output.eventId }}", "method": "POST"}}}
          ]
        }
        """;

    internal static WorkflowSpec Parse(string json) => JsonSerializer.Deserialize<WorkflowSpec>(json, StrictJson.Options)!;

    internal static IReadOnlyDictionary<string, string[]> Errors(WorkflowSpec spec)
    {
        var errors = new ValidationErrors();
        WorkflowRules.Validate(WorkflowRules.Normalize(spec), errors);
        return errors.ToDictionary();
    }

    private static WorkflowSpec Change(string json, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        edit(node);
        return Parse(node.ToJsonString());
    }

    private static JsonObject Step(JsonObject workflow, int index) => workflow["steps"]![index]!.AsObject();

    [Fact]
    public void Validate_AWellFormedWorkflow_HasNoErrors() => Errors(Parse(Valid)).ShouldBeEmpty();

    [Fact]
    public void Normalize_FillsDefaults_AndIsIdempotent()
    {
        var once = WorkflowRules.Normalize(Parse(Valid));

        once.Title.ShouldBe("order-intake");
        once.SubType.ShouldBe("workflow");
        once.IsActive.ShouldBe(false);
        once.Steps![0].Activity!.Version.ShouldBe(1);
        once.Steps[0].OnFailure.ShouldBe("abort");
        once.Steps[1].Name.ShouldBe("shape");
        once.Defaults!.RetryPolicy!.MaximumAttempts.ShouldBe(3);
        once.Defaults.Concurrency!.WhenFull.ShouldBe("queue");
        once.Graph!.Nodes!.Select(n => n.Id).ShouldBe(["fetch", "shape", "approve", "notify"]);
        once.Graph.Edges!.Count.ShouldBe(4);
        once.Graph.Nodes![3].Position!.X.ShouldBeGreaterThan(once.Graph.Nodes[2].Position!.X);
        JsonSerializer.Serialize(WorkflowRules.Normalize(once), StrictJson.Options).ShouldBe(JsonSerializer.Serialize(once, StrictJson.Options));
    }

    public static TheoryData<string, string, string> Broken() => new()
    {
        { "unknown activity", "steps[0].activity.uniqueIdentifier", "not an activity" },
        { "unknown version", "steps[0].activity.version", "no version 9" },
        { "duplicate step id", "steps[1].id", "already the ID" },
        { "bad step id", "steps[0].id", "a letter" },
        { "missing dependency", "steps[1].dependsOn[0]", "not a step" },
        { "self dependency", "steps[1].dependsOn[0]", "itself" },
        { "cycle", "steps[0].dependsOn", "fetch → notify → approve → shape → fetch" },
        { "input schema", "steps[0].input.method", "allowed values" },
        { "input missing", "steps[0].input.url", "required" },
        { "input unknown member", "steps[0].input.verb", "'verb' is not an input" },
        { "template syntax", "steps[1].input.total", "ended" },
        { "template unknown root", "steps[1].input.total", "'env' is not something" },
        { "template reads a later step", "steps[1].input.total", "does not run before" },
        { "template reads no such step", "steps[1].input.total", "no step 'ghost'" },
        { "bad when operator", "steps[2].when.{{ steps.shape.output.total }}.~big", "not a filter operator" },
        { "retry attempts", "steps[0].retryPolicy.maximumAttempts", "between 1" },
        { "retry interval", "steps[0].retryPolicy.initialInterval", "duration" },
        { "retry backoff", "steps[0].retryPolicy.backoffCoefficient", "between 1 and 10" },
        { "retry maximum below initial", "steps[0].retryPolicy.maximumInterval", "shorter" },
        { "timeout", "steps[0].timeout", "duration" },
        { "onFailure", "steps[3].onFailure", "one of" },
        { "quorum above approvers", "steps[2].approval.quorum", "only 2 approvers" },
        { "escalate without target", "steps[2].approval.escalateTo", "required" },
        { "no approvers", "steps[2].approval.approvers", "required" },
        { "event without type", "trigger.eventType", "event type" },
        { "bad trigger filter", "trigger.filters.{{ context.event.payload.total }}.~gt", "number or a string" },
        { "trigger filter reads steps", "trigger.filters.{{ steps.fetch.output }}", "not something" },
        { "cron", "trigger.cron", "cron" },
        { "cron field count", "trigger.cron", "fields" },
        { "time zone", "trigger.timeZone", "time zone" },
        { "cron on an event workflow", "trigger.cron", "Only schedule" },
        { "webhook timeout", "trigger.webhook.timeout", "5m" },
        { "no steps", "steps", "steps or a personaPipeline" },
        { "graph node for no step", "graph.nodes[4].id", "not a step" },
        { "graph missing node", "graph.nodes", "'notify' has no node" },
        { "graph edge without dependency", "graph.edges[4]", "no dependency" },
        { "graph dependency without edge", "graph.edges", "has no edge" },
        { "loop body missing", "steps[4].loop.body[0]", "not a step" },
        { "loop body unreachable", "steps[4].loop.body", "can never run" },
        { "loop without loop", "steps[4].loop", "needs a loop" },
        { "concurrency mode", "defaults.concurrency.whenFull", "one of" },
        { "sandbox memory", "defaults.sandbox.memoryMb", "between 16" },
        { "webhook url", "notifications.webhookUrl", "http(s) URL" },
        { "credentials inline", "credentials.api", "secret's name" },
        { "name", "name", "lowercase" },
        { "type", "type", "one of" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Validate_EachRule_NamesTheBadField(string rule, string field, string message)
    {
        var spec = Change(Valid, workflow =>
        {
            switch (rule)
            {
                case "unknown activity": Step(workflow, 0)["activity"] = new JsonObject { ["uniqueIdentifier"] = "ftp" }; break;
                case "unknown version": Step(workflow, 0)["activity"]!["version"] = 9; break;
                case "duplicate step id": Step(workflow, 1)["id"] = "fetch"; break;
                case "bad step id": Step(workflow, 0)["id"] = "1st"; break;
                case "missing dependency": Step(workflow, 1)["dependsOn"] = new JsonArray("nope"); break;
                case "self dependency": Step(workflow, 1)["dependsOn"] = new JsonArray("shape"); break;
                case "cycle": Step(workflow, 0)["dependsOn"] = new JsonArray("notify"); break;
                case "input schema": Step(workflow, 0)["input"]!["method"] = "FETCH"; break;
                case "input missing": Step(workflow, 0)["input"]!.AsObject().Remove("url"); break;
                case "input unknown member": Step(workflow, 0)["input"]!["verb"] = "GET"; break;
                case "template syntax": Step(workflow, 1)["input"]!["total"] = "{{ steps.fetch.output.body.total + }}"; break;
                case "template unknown root": Step(workflow, 1)["input"]!["total"] = "{{ env.HOME }}"; break;
                case "template reads a later step": Step(workflow, 1)["input"]!["total"] = "{{ steps.notify.output }}"; break;
                case "template reads no such step": Step(workflow, 1)["input"]!["total"] = "{{ steps.ghost.output }}"; break;
                case "bad when operator": Step(workflow, 2)["when"] = new JsonObject { ["{{ steps.shape.output.total }}"] = new JsonObject { ["~big"] = 1 } }; break;
                case "retry attempts": Step(workflow, 0)["retryPolicy"]!["maximumAttempts"] = -1; break;
                case "retry interval": Step(workflow, 0)["retryPolicy"]!["initialInterval"] = "soon"; break;
                case "retry backoff": Step(workflow, 0)["retryPolicy"]!["backoffCoefficient"] = 11; break;
                case "retry maximum below initial": Step(workflow, 0)["retryPolicy"]!["maximumInterval"] = "1s"; break;
                case "timeout": Step(workflow, 0)["timeout"] = "-5s"; break;
                case "onFailure": Step(workflow, 3)["onFailure"] = "panic"; break;
                case "quorum above approvers": Step(workflow, 2)["approval"]!["quorum"] = 3; break;
                case "escalate without target": Step(workflow, 2)["approval"]!.AsObject().Remove("escalateTo"); break;
                case "no approvers": Step(workflow, 2)["approval"]!["approvers"] = new JsonArray(); Step(workflow, 2)["approval"]!["quorum"] = 1; break;
                case "event without type": workflow["trigger"]!.AsObject().Remove("eventType"); break;
                case "bad trigger filter": workflow["trigger"]!["filters"]!["{{ context.event.payload.total }}"] = new JsonObject { ["~gt"] = true }; break;
                case "trigger filter reads steps": workflow["trigger"]!["filters"] = new JsonObject { ["{{ steps.fetch.output }}"] = new JsonObject { ["~exists"] = true } }; break;
                case "cron": workflow["type"] = "schedule"; workflow["trigger"] = new JsonObject { ["cron"] = "61 * * * *" }; break;
                case "cron field count": workflow["type"] = "schedule"; workflow["trigger"] = new JsonObject { ["cron"] = "* *" }; break;
                case "time zone": workflow["type"] = "schedule"; workflow["trigger"] = new JsonObject { ["cron"] = "0 9 * * 1-5", ["timeZone"] = "Mars/Olympus" }; break;
                case "cron on an event workflow": workflow["trigger"]!["cron"] = "0 9 * * *"; break;
                case "webhook timeout": workflow["type"] = "webhook"; workflow["trigger"] = new JsonObject { ["webhook"] = new JsonObject { ["mode"] = "sync", ["timeout"] = "10m" } }; break;
                case "no steps": workflow["steps"] = new JsonArray(); break;
                case "graph node for no step": workflow["graph"] = Graph(extraNode: "ghost"); break;
                case "graph missing node": workflow["graph"] = Graph(skipNode: "notify"); break;
                case "graph edge without dependency": workflow["graph"] = Graph(extraEdge: ("fetch", "notify")); break;
                case "graph dependency without edge": workflow["graph"] = Graph(skipEdge: ("shape", "approve")); break;
                case "loop body missing": workflow["steps"]!.AsArray().Add(Loop("again", "ghost")); break;
                case "loop body unreachable": workflow["steps"]!.AsArray().Add(Loop("again", "shape")); break;
                case "loop without loop": workflow["steps"]!.AsArray().Add(new JsonObject { ["id"] = "again", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "loop" } }); break;
                case "concurrency mode": workflow["defaults"] = new JsonObject { ["concurrency"] = new JsonObject { ["whenFull"] = "drop" } }; break;
                case "sandbox memory": workflow["defaults"] = new JsonObject { ["sandbox"] = new JsonObject { ["memoryMb"] = 1 } }; break;
                case "webhook url": workflow["notifications"] = new JsonObject { ["webhookUrl"] = "ftp://x" }; break;
                case "credentials inline": workflow["credentials"] = new JsonObject { ["api"] = "sk-live 123 secret" }; break;
                case "name": workflow["name"] = "Order Intake"; break;
                case "type": workflow["type"] = "cron"; break;
                default: throw new ArgumentOutOfRangeException(nameof(rule), rule, null);
            }
        });

        var errors = Errors(spec);

        errors.Keys.ShouldContain(field, $"{rule}: errors were {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}");
        string.Join(" ", errors[field]).ShouldContain(message, Case.Insensitive, rule);
    }

    private static JsonObject Graph(string? extraNode = null, string? skipNode = null, (string, string)? extraEdge = null, (string, string)? skipEdge = null)
    {
        var nodes = new JsonArray();
        foreach (var id in new[] { "fetch", "shape", "approve", "notify" }.Where(id => id != skipNode).Append(extraNode).OfType<string>())
        {
            nodes.Add(new JsonObject { ["id"] = id, ["position"] = new JsonObject { ["x"] = 0, ["y"] = 0 } });
        }

        var edges = new JsonArray();
        foreach (var (source, target) in new[] { ("fetch", "shape"), ("shape", "approve"), ("approve", "notify"), ("shape", "notify") }.Where(e => e != skipEdge).Concat(extraEdge is { } more ? [more] : []))
        {
            edges.Add(new JsonObject { ["source"] = source, ["target"] = target });
        }

        return new JsonObject { ["nodes"] = nodes, ["edges"] = edges };
    }

    private static JsonObject Loop(string id, string body) => new()
    {
        ["id"] = id,
        ["activity"] = new JsonObject { ["uniqueIdentifier"] = "loop" },
        ["loop"] = new JsonObject { ["body"] = new JsonArray(body), ["maxIterations"] = 3 },
    };

    [Fact]
    public void Validate_TemplatedInputs_SkipTypeChecksUntilTheyRender()
    {
        var spec = Parse("""
            {"name": "typed", "steps": [{"id": "call", "activity": {"uniqueIdentifier": "http"},
              "input": {"url": "{{ context.body.url }}", "successStatuses": "{{ context.body.codes }}", "headers": {"X-Id": "{{ context.body.id }}"}}}]}
            """);

        Errors(spec).ShouldBeEmpty();
    }

    [Fact]
    public void Validate_Loops_MayReadTheirOwnBodyFromTheLastPass()
    {
        var spec = Parse("""
            {"name": "looping", "steps": [
              {"id": "start", "activity": {"uniqueIdentifier": "transform"}, "input": {"n": 0}},
              {"id": "again", "activity": {"uniqueIdentifier": "loop"}, "dependsOn": ["start"],
               "loop": {"body": ["work", "score"], "until": {"{{ steps.score.output.ok }}": {"~eq": true}}, "maxIterations": 5}},
              {"id": "work", "activity": {"uniqueIdentifier": "transform"}, "dependsOn": ["again"], "input": {"previous": "{{ steps.score.output ?? steps.start.output }}"}},
              {"id": "score", "activity": {"uniqueIdentifier": "condition"}, "dependsOn": ["work"], "input": {"test": {"{{ steps.work.output.previous }}": {"~exists": true}}}},
              {"id": "after", "activity": {"uniqueIdentifier": "transform"}, "dependsOn": ["again", "score"], "input": {"last": "{{ steps.score.output }}"}}
            ]}
            """);

        Errors(spec).ShouldBeEmpty();
    }

    [Fact]
    public void PersonaPipeline_ExpandsIntoAValidLoop()
    {
        var spec = WorkflowRules.Normalize(Parse("""
            {"name": "essay", "personaPipeline": {"designer": {"persona": "writer", "model": {"temperature": 0.9}}, "checker": {"persona": "editor"},
             "optimizer": {"persona": "polisher"}, "maxIterations": 4, "checkerInstructions": "Be strict."}}
            """));

        spec.SubType.ShouldBe("pipeline");
        spec.Steps!.Select(s => s.Id).ShouldBe(["pipeline", "design", "check", "optimize", "result"]);
        spec.Steps![0].Loop!.MaxIterations.ShouldBe(4);
        spec.Steps[1].Input!["persona"]!.GetValue<string>().ShouldBe("writer");
        spec.Steps[1].Input!["model"]!["temperature"]!.GetValue<double>().ShouldBe(0.9);
        spec.Steps[2].Input!["outputFormat"]!.GetValue<string>().ShouldBe("json");
        spec.Steps[2].Input!["instructions"]!.GetValue<string>().ShouldBe("Be strict.");
        var errors = new ValidationErrors();
        WorkflowRules.Validate(spec, errors);
        errors.ToDictionary().ShouldBeEmpty();

        var changed = WorkflowRules.Normalize(spec with { PersonaPipeline = spec.PersonaPipeline! with { Optimizer = null, MaxIterations = 2 } });
        changed.Steps!.Select(s => s.Id).ShouldBe(["pipeline", "design", "check", "result"], "editing the pipeline re-derives the steps");
        changed.Steps![0].Loop!.MaxIterations.ShouldBe(2);
    }

    [Fact]
    public void PersonaPipeline_NeedsADesignerAndAChecker()
    {
        var errors = Errors(Parse("""{"name": "essay", "personaPipeline": {"designer": {}, "maxIterations": 99}}"""));

        errors.Keys.ShouldContain("personaPipeline.designer.persona");
        errors.Keys.ShouldContain("personaPipeline.checker.persona");
        errors.Keys.ShouldContain("personaPipeline.maxIterations");
    }

    [Fact]
    public void Cycle_IsNamedEvenWhenDisconnectedFromTheStart()
    {
        var dependencies = new Dictionary<string, List<string>>
        {
            ["a"] = [],
            ["b"] = ["a", "d"],
            ["c"] = ["b"],
            ["d"] = ["c"],
        };

        WorkflowGraphs.FindCycle(dependencies).ShouldBe(["b", "d", "c", "b"]);
        WorkflowGraphs.FindCycle(new Dictionary<string, List<string>> { ["a"] = [], ["b"] = ["a"] }).ShouldBeNull();
    }

    [Theory]
    [InlineData("0 9 * * 1-5", "0 0 9 ? * MON-FRI")]
    [InlineData("*/15 * * * *", "0 */15 * * * ?")]
    [InlineData("0 0 1 * *", "0 0 0 1 * ?")]
    [InlineData("30 6 * * 0,6", "0 30 6 ? * SUN,SAT")]
    [InlineData("0 12 * * 7", "0 0 12 ? * SUN")]
    [InlineData("0 0/5 14 * * ?", "0 0/5 14 * * ?")]
    public void Cron_FiveFieldsAreReadAsClassicCron(string cron, string quartz)
    {
        Schedules.ToQuartz(cron).ShouldBe(quartz);
        Schedules.CronProblem(cron).ShouldBeNull();
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("2d", 172_800_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("PT30S", 30_000)]
    [InlineData("P1DT2H", 93_600_000)]
    public void Durations_ReadCompactAndIsoForms(string text, double milliseconds)
    {
        Durations.TryParse(text, out var duration).ShouldBeTrue();
        duration.TotalMilliseconds.ShouldBe(milliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5 s")]
    [InlineData("s5")]
    [InlineData("-PT5S")]
    [InlineData("5w")]
    [InlineData("99999999999d")]
    public void Durations_RefuseOtherText(string text) => Durations.TryParse(text, out _).ShouldBeFalse();

    [Fact]
    public void Registry_ListsEveryActivityOfTheDesign_WithReadableSchemas()
    {
        ActivityRegistry.All.Keys.ShouldBe(
            ["agent", "llm", "triage", "http", "transform", "condition", "switch", "loop", "sleep", "approval", "wait_for_event", "emit_event", "run_workflow", "respond"],
            ignoreOrder: true);
        ActivityRegistry.All.Values.ShouldAllBe(a => a.Versions.Count > 0 && a.Description.Length > 0);
        ActivityRegistry.All.Values.Where(a => a.IsPure).Select(a => a.UniqueIdentifier).ShouldBe(["transform", "condition", "switch", "respond"], ignoreOrder: true);
        foreach (var activity in ActivityRegistry.All.Values)
        {
            Cadre.Common.JsonSchemas.Check(activity.Latest.InputSchema).ShouldBeNull(activity.UniqueIdentifier);
        }
    }
}
