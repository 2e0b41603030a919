using System.Net;
using System.Text.Json.Nodes;
using Cadre.Runs;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Triggers;

/// <summary>POST …/events: validated, recorded once per id, and each matching active workflow runs once per event.</summary>
public sealed class EventIngestionTests
{
    private static readonly object TicketSchema = new
    {
        type = "object",
        required = new[] { "title" },
        properties = new { title = new { type = "string" }, priority = new { type = "string", @enum = new[] { "low", "high" } } },
    };

    private static async Task<TestWorkspace> WorkspaceAsync(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/event-types", new { name = "ticket.created", schema = TicketSchema }))
            .ShouldBeAsync(HttpStatusCode.Created);
        return workspace;
    }

    private static string Events(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/events{rest}";

    /// <summary>An active workflow started by <paramref name="eventType"/>, whose one step echoes what the run got.</summary>
    private static async Task<string> ListenerAsync(TestWorkspace workspace, string eventType, object? filters = null, bool active = true)
    {
        var name = await workspace.CreateFlowAsync(
            [new { id = "echo", activity = new { uniqueIdentifier = "transform" }, input = new { eventId = "{{ context.event.id }}", type = "{{ context.event.type }}", payload = "{{ context.event.payload }}", body = "{{ context.body }}", trigger = "{{ context.trigger.type }}" } }],
            new { type = "event", trigger = filters is null ? (object)new { eventType } : new { eventType, filters } });
        if (active)
        {
            await (await workspace.Owner.PostAsync(workspace.Workflows($"/{name}/activate"), null)).ShouldBeAsync(HttpStatusCode.OK);
        }

        return name;
    }

    private static async Task<JsonObject> SendAsync(TestWorkspace workspace, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var response = await workspace.Owner.PostJsonAsync(Events(workspace), body);
        await response.ShouldBeAsync(expected);
        return await response.ReadObjectAsync();
    }

    private static List<string> RunWorkflows(JsonObject sent) => [.. sent["runs"]!.AsArray().Select(r => (string)r!["workflow"]!).Order()];

    [Theory, AllDatabases]
    public async Task Ingest_StartsOneRunInEachActiveWorkflowWhoseTriggerTakesIt(DatabaseKind db)
    {
        var workspace = await WorkspaceAsync(db);
        var exact = await ListenerAsync(workspace, "ticket.created");
        var pattern = await ListenerAsync(workspace, "ticket.*");
        var urgent = await ListenerAsync(workspace, "ticket.created", new Dictionary<string, object> { ["{{ context.event.payload.priority }}"] = new Dictionary<string, object> { ["~eq"] = "high" } });
        var calm = await ListenerAsync(workspace, "ticket.created", new Dictionary<string, object> { ["{{ context.body.priority }}"] = new Dictionary<string, object> { ["~eq"] = "low" } });
        await ListenerAsync(workspace, "ticket.created", active: false);

        var sent = await SendAsync(workspace, new { type = "ticket.created", source = "helpdesk", payload = new { title = "Printer on fire", priority = "high" } });

        RunWorkflows(sent).ShouldBe(new[] { exact, pattern, urgent }.Order().ToList());
        ((string)sent["origin"]!).ShouldBe("api");
        ((string)sent["source"]!).ShouldBe("helpdesk");
        sent["runs"]!.AsArray().ShouldNotContain(r => (string)r!["workflow"]! == calm);
        var run = await workspace.WaitForRunAsync((string)sent["runs"]![0]!["runId"]!);
        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var echo = run["output"]!.AsObject();
        ((string)echo["eventId"]!).ShouldBe((string)sent["id"]!);
        ((string)echo["type"]!).ShouldBe("ticket.created");
        ((string)echo["trigger"]!).ShouldBe("event");
        ((string)echo["payload"]!["title"]!).ShouldBe("Printer on fire");
        ((string)echo["body"]!["title"]!).ShouldBe("Printer on fire");

        var read = await (await workspace.Owner.GetAsync(Events(workspace, $"/{sent["id"]}"))).ReadObjectAsync();
        RunWorkflows(read).ShouldBe(RunWorkflows(sent));
        read["dispatchedAt"].ShouldNotBeNull();
        var listed = await workspace.ListAllAsync(Events(workspace, "?type=ticket.*"));
        listed.Select(e => (string)e["id"]!).ShouldBe([(string)sent["id"]!]);
    }

    [Theory, AllDatabases]
    public async Task Ingest_ConcurrentCopiesOf200Ids_StartExactly200Runs(DatabaseKind db)
    {
        var workspace = await WorkspaceAsync(db);
        var listener = await ListenerAsync(workspace, "ticket.created");
        var deliveries = Enumerable.Range(0, 1000).Select(i => i % 200).OrderBy(_ => Random.Shared.Next()).ToList();

        var answers = await Task.WhenAll(deliveries.Select(async id =>
        {
            var response = await workspace.Owner.PostJsonAsync(Events(workspace), new { type = "ticket.created", id = $"delivery-{id}", payload = new { title = $"T{id}" } });
            return (id, response.StatusCode, Body: await response.ReadObjectAsync());
        }));

        answers.Where(a => a.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK)).ShouldBeEmpty();
        answers.Count(a => a.StatusCode == HttpStatusCode.Created).ShouldBe(200);
        answers.GroupBy(a => a.id).ShouldAllBe(copies => copies.Select(c => (string)c.Body["id"]!).Distinct().Count() == 1);
        var runs = await workspace.ListAllAsync(workspace.Workflows($"/{listener}/runs"));
        runs.Count.ShouldBe(200);
        var events = await workspace.ListAllAsync(Events(workspace));
        events.Count.ShouldBe(200);
        events.ShouldAllBe(e => e["runs"]!.AsArray().Count == 1);
    }

    [Theory, AllDatabases]
    public async Task Ingest_SameIdAgain_AnswersTheFirstEventAndStartsNothingMore(DatabaseKind db)
    {
        var workspace = await WorkspaceAsync(db);
        await ListenerAsync(workspace, "ticket.created");
        var first = await SendAsync(workspace, new { type = "ticket.created", id = "T-1", payload = new { title = "First" }, occurredAt = "2026-01-02T03:04:05Z" });

        var again = await SendAsync(workspace, new { type = "ticket.created", id = "T-1", payload = new { title = "Changed" } }, HttpStatusCode.OK);

        ((string)again["id"]!).ShouldBe((string)first["id"]!);
        ((string)again["payload"]!["title"]!).ShouldBe("First");
        ((string)again["externalId"]!).ShouldBe("T-1");
        ((DateTime)again["occurredAt"]!).ShouldBe(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        again["runs"]!.AsArray().Count.ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Ingest_BadEvents_AreRefusedAndRecordNothing(DatabaseKind db)
    {
        var workspace = await WorkspaceAsync(db);
        await ListenerAsync(workspace, "ticket.*");

        (await (await workspace.Owner.PostJsonAsync(Events(workspace), new { payload = new { title = "x" } })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("type");
        (await (await workspace.Owner.PostJsonAsync(Events(workspace), new { type = "ticket.closed" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!["type"][0].ShouldContain("no event type");
        (await (await workspace.Owner.PostJsonAsync(Events(workspace), new { type = "run.failed", payload = new { } })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!["type"][0].ShouldContain("Cadre's own");
        (await (await workspace.Owner.PostJsonAsync(Events(workspace), new { type = "ticket.created", payload = new { priority = "urgent" } })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("payload");
        (await (await workspace.Owner.PostJsonAsync(Events(workspace), new { type = "ticket.created", payload = new { title = "x" }, id = new string('x', 201) })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("id");
        await (await workspace.Owner.PostJsonAsync(Events(workspace), new { type = "ticket.created", payload = new { title = "x" }, colour = "red" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await workspace.Owner.PostJsonAsync(Events(workspace), new { type = "ticket.created", occurredAt = "yesterday" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var viewer = new HttpClient { BaseAddress = workspace.Owner.BaseAddress };
        viewer.DefaultRequestHeaders.Authorization = new("Bearer", await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        await (await viewer.PostJsonAsync(Events(workspace), new { type = "ticket.created", payload = new { title = "x" } })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.GetAsync(Events(workspace, "?origin=mars"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await workspace.Owner.GetAsync(Events(workspace, "?type=*.created"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await workspace.Owner.GetAsync(Events(workspace, "/ev_unknown"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PostAsync(Events(workspace, "/ev_unknown/replay"), null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        (await workspace.ListAllAsync(Events(workspace))).ShouldBeEmpty();
        var other = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var sent = await SendAsync(workspace, new { type = "ticket.created", payload = new { title = "mine" } });
        await (await other.Owner.GetAsync($"/api/v1/workspaces/{other.Name}/events/{sent["id"]}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Replay_StartsOneMoreRunPerMatchingWorkflow_NumberedByReplay(DatabaseKind db)
    {
        var workspace = await WorkspaceAsync(db);
        await ListenerAsync(workspace, "ticket.created");
        var sent = await SendAsync(workspace, new { type = "ticket.created", payload = new { title = "Again" } });
        var later = await ListenerAsync(workspace, "ticket.created");

        var replayed = await (await workspace.Owner.PostAsync(Events(workspace, $"/{sent["id"]}/replay"), null)).ReadObjectAsync();

        ((int)replayed["replays"]!).ShouldBe(1);
        var runs = replayed["runs"]!.AsArray();
        runs.Count.ShouldBe(3);
        runs.Count(r => (int)r!["replay"]! == 1).ShouldBe(2);
        runs.ShouldContain(r => (string)r!["workflow"]! == later && (int)r["replay"]! == 1);
    }

    [Theory, AllDatabases]
    public async Task RouteToPersonas_StartsOneRunPerPersonaWhoseScopeTakesTheEvent(DatabaseKind db)
    {
        var workspace = await WorkspaceAsync(db);
        foreach (var (name, scope) in new (string, object)[]
        {
            ("billing", new { eventTypes = new[] { "ticket.*" } }),
            ("support", new { eventTypes = new[] { "ticket.created" }, sources = new[] { "helpdesk" } }),
            ("sales", new { eventTypes = new[] { "order.*" } }),
        })
        {
            await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/personas", new { name, displayName = name, instructions = "Help.", scope }))
                .ShouldBeAsync(HttpStatusCode.Created);
        }

        var router = await workspace.CreateFlowAsync(
            [new { id = "who", activity = new { uniqueIdentifier = "transform" }, input = new { persona = "{{ context.persona.name }}" } }],
            new { type = "event", trigger = new { eventType = "ticket.created", routeToPersonas = true } });
        await (await workspace.Owner.PostAsync(workspace.Workflows($"/{router}/activate"), null)).ShouldBeAsync(HttpStatusCode.OK);

        var fromHelpdesk = await SendAsync(workspace, new { type = "ticket.created", source = "helpdesk", payload = new { title = "A" } });
        var fromMail = await SendAsync(workspace, new { type = "ticket.created", source = "mail", payload = new { title = "B" } });

        fromHelpdesk["runs"]!.AsArray().Count.ShouldBe(2);
        fromMail["runs"]!.AsArray().Count.ShouldBe(1);
        var outputs = new List<string>();
        foreach (var run in fromHelpdesk["runs"]!.AsArray())
        {
            outputs.Add((string)(await workspace.WaitForRunAsync((string)run!["runId"]!))["output"]!["persona"]!);
        }

        outputs.Order().ShouldBe(["billing", "support"]);
        var read = await (await workspace.Owner.GetAsync(Events(workspace, $"/{fromHelpdesk["id"]}"))).ReadObjectAsync();
        read["runs"]!.AsArray().ShouldAllBe(r => ((string)r!["personaId"]!).StartsWith("per_", StringComparison.Ordinal));
    }

    [Theory, AllDatabases]
    public async Task Ingest_WakesWaitForEventSteps(DatabaseKind db)
    {
        var workspace = await WorkspaceAsync(db);
        var waiter = await workspace.CreateFlowAsync(
            [new { id = "wait", activity = new { uniqueIdentifier = "wait_for_event" }, input = new { eventType = "ticket.created", timeout = "30s", filters = new Dictionary<string, object> { ["{{ event.payload.title }}"] = new Dictionary<string, object> { ["~eq"] = "{{ context.body.title }}" } } } }]);
        var run = (string)(await workspace.StartAsync(waiter, new { input = new { title = "Mine" } }, wait: null))["id"]!;
        await workspace.WaitForRunAsync(run, r => (string)r["status"]! == "waiting");

        await SendAsync(workspace, new { type = "ticket.created", payload = new { title = "Mine" } });

        var woken = await workspace.WaitForRunAsync(run);
        ((string)woken["status"]!).ShouldBe("succeeded");
        ((string)woken["output"]!["event"]!["payload"]!["title"]!).ShouldBe("Mine");
    }

    [Theory, AllDatabases]
    public async Task UndispatchedEvent_LeftByACrash_IsDispatchedByTheSweep(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await WorkspaceAsync(db);
        var listener = await ListenerAsync(workspace, "ticket.created");
        var eventId = "ev_" + Guid.CreateVersion7().ToString("N");
        using (var scope = app.Services.CreateScope())
        {
            // As if the process died between recording the event and starting its runs.
            var context = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            context.WorkspaceEvents.Add(new WorkspaceEvent
            {
                Id = eventId, WorkspaceId = workspace.Id, Type = "ticket.created", Payload = """{"title":"Lost?"}""", Origin = "api", CreatedAt = DateTime.UtcNow.AddMinutes(-1),
            });
            await context.SaveChangesAsync();
        }

        await Eventually.HoldsAsync(async () => (await workspace.ListAllAsync(workspace.Workflows($"/{listener}/runs"))).Count == 1, "the sweep started the event's run");

        var read = await (await workspace.Owner.GetAsync(Events(workspace, $"/{eventId}"))).ReadObjectAsync();
        read["dispatchedAt"].ShouldNotBeNull();
        read["runs"]!.AsArray().Count.ShouldBe(1);
    }
}
