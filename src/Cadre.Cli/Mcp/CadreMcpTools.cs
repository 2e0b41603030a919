using System.Globalization;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;

namespace Cadre.Cli.Mcp;

/// <summary>
/// The tools <c>cadre mcp</c> offers, each one or two calls of the HTTP API in the configured workspace with the
/// configured key. Nothing here decides what a key may do: the API answers, and a refusal is the tool's error.
/// </summary>
internal sealed class CadreMcpTools(CliSession session)
{
    /// <summary>The longest <c>?wait=</c> the API takes (5 minutes).</summary>
    public const int MaxWaitSeconds = 300;

    public const int DefaultWaitSeconds = 30;

    private static readonly ToolParameter Query = new("query", Schemas.String("Words to search for in names, titles and descriptions (optional)"));

    private static readonly ToolParameter Limit = new("limit", Schemas.Integer("At most this many items", 1, 100, 20));

    private static readonly ToolParameter Run = new("run", Schemas.String("The run's ID (run_…), as start_run or a list answered it"), Required: true);

    private static readonly string[] ApprovalStatuses = ["pending", "approved", "rejected", "expired", "cancelled", "all"];

    private string Workspace => session.WorkspacePath;

    public IReadOnlyList<CadreTool> All() =>
    [
        CadreTool.Create("list_personas", "List personas",
            "List the workspace's personas (the AI assistants its workflows put to work), newest first, optionally searched. " +
            "Answers {count, results}: count is how many match in all; each result has name, displayName, description, tags, provider, model.",
            [Query, Limit], (args, ct) => ListAsync("personas", args, ct), readOnly: true),
        CadreTool.Create("get_persona", "Get a persona",
            "One persona in full: its instructions, model, parameters, skills, guardrails and version. " +
            "The resource cadre://personas/{name}/card has the same as a readable Markdown page.",
            [new("name", Schemas.String("The persona's name (or ID)"), Required: true)],
            (args, ct) => session.Api.GetAsync($"{Workspace}/personas/{CadreApiClient.Segment(args.String("name"))}", ct), readOnly: true),
        CadreTool.Create("list_workflows", "List workflows",
            "List the workspace's workflows, newest first, optionally searched. Answers {count, results}: each result has name, title, " +
            "description, trigger (manual, event, webhook, schedule), isActive, the personas and models its steps use, and its lastRun.",
            [Query, Limit], (args, ct) => ListAsync("workflows", args, ct), readOnly: true),
        CadreTool.Create("get_workflow", "Get a workflow",
            "One workflow's definition: its trigger, steps (each with its activity and input), and version. " +
            "Read it before start_run to see what input the steps expect (they read it as context.body).",
            [new("name", Schemas.String("The workflow's name (or ID)"), Required: true)],
            (args, ct) => session.Api.GetAsync($"{Workspace}/workflows/{CadreApiClient.Segment(args.String("name"))}", ct), readOnly: true),
        CadreTool.Create("start_run", "Start a workflow run",
            "Start a run of a workflow and wait for it to end (up to wait_seconds). Answers the run: id, status, output, error, usage " +
            "(tokens and cost) and each step's status. If it has not ended in time its status is queued, running, or waiting " +
            "(for an approval: see list_approvals; or for an event): call get_run with its id later. Needs the operator role.",
            [
                new("workflow", Schemas.String("The workflow's name (or ID)"), Required: true),
                new("input", Schemas.Any("The run's input, usually a JSON object; steps read it as context.body (default {})")),
                new("prompt", Schemas.String("A free-text instruction for the workflow's agent steps, read as context.prompt")),
                new("wait_seconds", Schemas.Integer("How long to wait for the run to end; 0 answers at once with the queued run",
                    0, MaxWaitSeconds, DefaultWaitSeconds)),
            ],
            StartRunAsync, readOnly: false, destructive: false, openWorld: true),
        CadreTool.Create("get_run", "Get a run",
            "A run's status (queued, running, waiting, succeeded, failed, halted, …), its output, its error, its usage (tokens and cost) " +
            "and each step's status and error. get_run_events has its full history.",
            [Run], async (args, ct) => RunView(await session.Api.GetAsync($"{Workspace}/runs/{CadreApiClient.Segment(args.String("run"))}", ct)),
            readOnly: true),
        CadreTool.Create("get_run_events", "Get a run's events",
            "A run's history, oldest first: status changes, steps started and finished, logs, approvals. Answers {events, more, after}: " +
            "when more is true, call again with after to read on.",
            [
                Run,
                new("after", Schemas.Integer("Only events after this event ID (the previous answer's after)", 0, long.MaxValue)),
                new("limit", Schemas.Integer("At most this many events", 1, 500, 100)),
            ],
            RunEventsAsync, readOnly: true),
        CadreTool.Create("list_approvals", "List approvals",
            "The workspace's approval inbox, newest first: each approval's id, runId, stepId, status, approvers, quorum, deadline and " +
            "summary (what is to be approved). Runs wait (status waiting) until theirs are decided with decide_approval.",
            [
                new("status", Schemas.String("Which approvals: pending (the default), approved, rejected, expired, cancelled, or all", ApprovalStatuses)),
                Limit,
            ],
            ListApprovalsAsync, readOnly: true),
        CadreTool.Create("decide_approval", "Approve or reject",
            "Approve or reject a pending approval, once, with an optional comment; the key's identity must be one of its approvers " +
            "and have the operator role. A rejection fails the step (and usually the run); neither can be undone. Answers the approval " +
            "with its status and decisions.",
            [
                new("approval", Schemas.String("The approval's ID, from list_approvals"), Required: true),
                new("decision", Schemas.String("approve or reject", "approve", "reject"), Required: true),
                new("comment", Schemas.String("Why, for the people who read the run later")),
            ],
            DecideAsync, readOnly: false, destructive: true),
        CadreTool.Create("send_event", "Send an event",
            "Send an event into the workspace: each active workflow whose trigger listens for its type starts a run. The type must be one " +
            "of the workspace's event types and the payload must follow its schema. Answers the event with the runs it started. " +
            "Sending the same id again starts nothing new. Needs the operator role.",
            [
                new("type", Schemas.String("The event type, such as ticket.created"), Required: true),
                new("payload", Schemas.Object("The event's data, following the type's schema"), Required: true),
                new("source", Schemas.String("Where it comes from, such as helpdesk (optional)")),
                new("id", Schemas.String("The event's own ID, so that sending it twice starts its runs once (optional)")),
            ],
            SendEventAsync, readOnly: false, destructive: false, openWorld: true),
    ];

    private async Task<JsonNode?> ListAsync(string collection, ToolArguments args, CancellationToken cancellationToken)
    {
        var path = CadreApiClient.WithQuery($"{Workspace}/{collection}", "q", args.OptionalString("query"));
        var (items, count) = await session.Api.ListAsync(path, (int)(args.OptionalInteger("limit", 1, 100) ?? 20), cancellationToken);
        return Page(items, count);
    }

    private async Task<JsonNode?> StartRunAsync(ToolArguments args, CancellationToken cancellationToken)
    {
        var workflow = args.String("workflow");
        var wait = args.OptionalInteger("wait_seconds", 0, MaxWaitSeconds) ?? DefaultWaitSeconds;
        var body = new JsonObject();
        if (args.OptionalJson("input") is { } input)
        {
            body["input"] = input;
        }

        if (args.OptionalString("prompt") is { } prompt)
        {
            body["prompt"] = prompt;
        }

        var path = $"{Workspace}/workflows/{CadreApiClient.Segment(workflow)}/runs";
        if (wait > 0)
        {
            path = CadreApiClient.WithQuery(path, "wait", wait.ToString(CultureInfo.InvariantCulture) + "s");
        }

        // The server holds the answer for up to the wait; the request's own limit allows for it.
        var run = await session.Api.SendAsync(HttpMethod.Post, path, body, cancellationToken, timeout: session.Api.RequestTimeout + TimeSpan.FromSeconds(wait));
        return RunView(run);
    }

    private async Task<JsonNode?> RunEventsAsync(ToolArguments args, CancellationToken cancellationToken)
    {
        var after = args.OptionalInteger("after", 0, long.MaxValue);
        var path = CadreApiClient.WithQuery($"{Workspace}/runs/{CadreApiClient.Segment(args.String("run"))}/events", "after",
            after?.ToString(CultureInfo.InvariantCulture));
        var (items, count) = await session.Api.ListAsync(path, (int)(args.OptionalInteger("limit", 1, 500) ?? 100), cancellationToken);
        return new JsonObject
        {
            ["events"] = new JsonArray([.. items]),
            ["more"] = items.Count < count,
            ["after"] = items.Count > 0 ? items[^1]["id"]?.DeepClone() : (JsonNode?)after,
        };
    }

    private async Task<JsonNode?> ListApprovalsAsync(ToolArguments args, CancellationToken cancellationToken)
    {
        var status = args.OptionalChoice("status", ApprovalStatuses) ?? "pending";
        var path = CadreApiClient.WithQuery($"{Workspace}/approvals", "status", status == "all" ? null : status);
        var (items, count) = await session.Api.ListAsync(path, (int)(args.OptionalInteger("limit", 1, 100) ?? 20), cancellationToken);
        return Page(items, count);
    }

    private Task<JsonNode?> DecideAsync(ToolArguments args, CancellationToken cancellationToken)
    {
        var approval = args.String("approval");
        var decision = new JsonObject
        {
            ["decision"] = args.OptionalChoice("decision", "approve", "reject") ?? throw new CliException("'decision' is required: approve or reject.", ExitCodes.Usage),
        };
        if (args.OptionalString("comment") is { } comment)
        {
            decision["comment"] = comment;
        }

        return session.Api.SendAsync(HttpMethod.Post, $"{Workspace}/approvals/{CadreApiClient.Segment(approval)}/decisions", decision, cancellationToken);
    }

    private Task<JsonNode?> SendEventAsync(ToolArguments args, CancellationToken cancellationToken)
    {
        var sent = new JsonObject
        {
            ["type"] = args.String("type"),
            ["payload"] = args.Object("payload"),
        };
        if (args.OptionalString("source") is { } source)
        {
            sent["source"] = source;
        }

        if (args.OptionalString("id") is { } id)
        {
            sent["id"] = id;
        }

        return session.Api.SendAsync(HttpMethod.Post, $"{Workspace}/events", sent, cancellationToken);
    }

    private static JsonObject Page(List<JsonNode> items, int count) => new()
    {
        ["count"] = count,
        ["results"] = new JsonArray([.. items]),
    };

    /// <summary>
    /// What an assistant needs of a run: the API's full document also carries its context, the conversation and the
    /// newest logs, which would fill the assistant's context for little (get_run_events has the history).
    /// </summary>
    private static JsonObject RunView(JsonNode? run)
    {
        var steps = new JsonArray();
        foreach (var step in (run?["steps"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var view = new JsonObject { ["id"] = Copy(step["id"]), ["activity"] = Copy(step["activity"]), ["status"] = Copy(step["status"]) };
            if (step["error"] is { } error)
            {
                view["error"] = error.DeepClone();
            }

            steps.Add(view);
        }

        return new JsonObject
        {
            ["id"] = Copy(run?["id"]),
            ["displayId"] = Copy(run?["displayId"]),
            ["workflow"] = Copy(run?["workflowName"]),
            ["status"] = Copy(run?["status"]),
            ["output"] = Copy(run?["output"]),
            ["error"] = Copy(run?["error"]),
            ["usage"] = Copy(run?["usage"]),
            ["steps"] = steps,
            ["createdAt"] = Copy(run?["createdAt"]),
            ["finishedAt"] = Copy(run?["finishedAt"]),
        };
    }

    private static JsonNode? Copy(JsonNode? node) => node?.DeepClone();
}
