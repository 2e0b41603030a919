using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Cli.Tests.Infrastructure;

namespace Cadre.Cli.Tests;

/// <summary>
/// Every verb of every resource in the CLI's table, through <c>cadre</c> alone: its happy path (<c>create -f</c>, <c>get</c> as a
/// table and as JSON, <c>update -f</c> seen through <c>get</c>, <c>delete</c> then a 404, each action) and at least one error path.
/// </summary>
public sealed class EveryVerbTests(CadreInstance cadre) : IClassFixture<CadreInstance>
{
    [Fact]
    public async Task Workspaces_CreateGetUpdateDelete_ADuplicateExits5()
    {
        var name = $"every-{Guid.NewGuid():N}"[..14];

        var created = await CreateAsync(null, "workspaces", $"name: {name}\ndisplayName: Every Verb\n");
        ((string)created["name"]!).ShouldBe(name);
        (await cadre.RunAsync(null, "workspaces", "get", name)).ShouldSucceed().Output.ShouldContain("Every Verb");
        await UpdateAsync(null, "workspaces", name, """{"displayName": "Every Verb Inc"}""", "displayName", "Every Verb Inc");

        var duplicate = await cadre.RunAsync(null, ["workspaces", "create", "-f", "-"], $"name: {name}\n");
        duplicate.ShouldFailWith(5);
        duplicate.Error.ShouldContain("409");

        await DeleteThenGoneAsync(null, "workspaces", name);
    }

    [Fact]
    public async Task Personas_CreateGetUpdateDeleteRestore_AnInvalidModelExits1NamingTheField()
    {
        var workspace = await cadre.CreateWorkspaceAsync("p-every");

        await CreateAsync(workspace, "personas", """
            {"name": "helper", "displayName": "Helper", "instructions": "You help.", "model": {"provider": "mock", "model": "echo"}}
            """);
        (await cadre.RunAsync(workspace, "personas", "get", "helper")).ShouldSucceed().Output.ShouldContain("You help.");
        await UpdateAsync(workspace, "personas", "helper", "description: Helps with anything.\n", "description", "Helps with anything.");
        await DeleteThenGoneAsync(workspace, "personas", "helper");
        (await cadre.RunAsync(workspace, "personas", "restore", "helper")).ShouldSucceed();
        ((string)(await GetAsync(workspace, "personas", "helper"))["description"]!).ShouldBe("Helps with anything.");

        var invalid = await cadre.RunAsync(workspace, ["personas", "update", "helper", "-f", "-"], "temperature: 7\n");
        invalid.ShouldFailWith(1);
        invalid.Error.ShouldContain("(HTTP 422)");
        invalid.Error.ShouldContain("temperature");
    }

    [Fact]
    public async Task Workflows_CreateGetUpdateDeactivateActivateDeleteRestore_ADuplicateExits5()
    {
        var workspace = await cadre.CreateWorkspaceAsync("w-every");
        const string Noop = """
            name: noop
            steps:
              - {id: nothing, activity: {uniqueIdentifier: transform}, input: {}}
            """;

        await CreateAsync(workspace, "workflows", Noop);
        (await cadre.RunAsync(workspace, "workflows", "get", "noop")).ShouldSucceed().Output.ShouldContain("nothing");
        await UpdateAsync(workspace, "workflows", "noop", """{"description": "Does nothing."}""", "description", "Does nothing.");

        (await cadre.RunAsync(workspace, "workflows", "deactivate", "noop")).ShouldSucceed();
        ((bool)(await GetAsync(workspace, "workflows", "noop"))["isActive"]!).ShouldBeFalse();
        (await cadre.RunAsync(workspace, "workflows", "activate", "noop")).ShouldSucceed();
        ((bool)(await GetAsync(workspace, "workflows", "noop"))["isActive"]!).ShouldBeTrue();

        var duplicate = await cadre.RunAsync(workspace, ["workflows", "create", "-f", "-"], Noop);
        duplicate.ShouldFailWith(5);
        duplicate.Error.ShouldContain("409");

        await DeleteThenGoneAsync(workspace, "workflows", "noop");
        (await cadre.RunAsync(workspace, "workflows", "restore", "noop")).ShouldSucceed();
        ((string)(await GetAsync(workspace, "workflows", "noop"))["description"]!).ShouldBe("Does nothing.");
    }

    [Fact]
    public async Task Runs_GetHaltResumeRetryRerun_AnUnknownRunExits4()
    {
        var workspace = await cadre.CreateWorkspaceAsync("r-every");
        await CreateAsync(workspace, "workflows", """
            name: sleepy
            steps:
              - {id: nap, activity: {uniqueIdentifier: sleep}, input: {duration: 1h}}
            """);
        await CreateAsync(workspace, "workflows", """
            name: broken
            steps:
              - id: fetch
                activity: {uniqueIdentifier: http}
                input: {url: "http://127.0.0.1:1/"}
                retryPolicy: {maximumAttempts: 1}
            """);
        await CreateAsync(workspace, "workflows", """
            name: quick
            steps:
              - {id: only, activity: {uniqueIdentifier: transform}, input: {n: 1}}
            """);

        // Halt and resume a sleeping run.
        var sleeping = (string)(await cadre.RunAsync(workspace, "run", "sleepy", "-o", "json")).ShouldSucceed().Json()["id"]!;
        (await cadre.RunAsync(workspace, "runs", "get", sleeping)).ShouldSucceed().Output.ShouldContain("SLEEPY-1");
        (await cadre.RunAsync(workspace, "runs", "halt", sleeping)).ShouldSucceed();
        await RunStatusAsync(workspace, sleeping, status => status == "halted");
        (await cadre.RunAsync(workspace, "runs", "resume", sleeping)).ShouldSucceed();
        await RunStatusAsync(workspace, sleeping, status => status != "halted");

        // Retry a failed run: it fails again, the port being still closed.
        (await cadre.RunAsync(workspace, "run", "broken", "--wait")).ShouldFailWith(1);
        var failed = (string)(await cadre.RunAsync(workspace, "runs", "list", "-F", "status=failed", "-o", "json")).ShouldSucceed().Json()[0]!["id"]!;
        (await cadre.RunAsync(workspace, "runs", "retry", failed)).ShouldSucceed();
        await Eventually.HoldsAsync(
            async () => (await cadre.RunAsync(workspace, "runs", "tail", failed)).ShouldFailWith(1).Output,
            tail => tail.Split("▶ fetch started").Length == 3, "the retried step ran (and failed) a second time");

        // Rerun a finished one: a new run.
        var finished = (string)(await cadre.RunAsync(workspace, "run", "quick", "--wait", "-o", "json")).ShouldSucceed().Json()["id"]!;
        var rerun = (await cadre.RunAsync(workspace, "runs", "rerun", finished, "-o", "json")).ShouldSucceed().Json();
        var rerunId = (string)rerun["id"]!;
        rerunId.ShouldNotBe(finished);
        await RunStatusAsync(workspace, rerunId, status => status == "succeeded");

        var unknown = await cadre.RunAsync(workspace, "runs", "halt", "run_nosuchrun");
        unknown.ShouldFailWith(4);
        unknown.Error.ShouldContain("404");
    }

    [Fact]
    public async Task EventTypesAndEvents_CreateGetUpdateReplayDelete_APayloadAgainstTheSchemaExits1()
    {
        var workspace = await cadre.CreateWorkspaceAsync("e-every");

        await CreateAsync(workspace, "event-types", """
            name: order.paid
            description: An order was paid.
            schema:
              type: object
              properties:
                order: {type: integer}
              required: [order]
            """);
        (await cadre.RunAsync(workspace, "event-types", "get", "order.paid")).ShouldSucceed().Output.ShouldContain("An order was paid.");
        await UpdateAsync(workspace, "event-types", "order.paid", """{"description": "Money came in."}""", "description", "Money came in.");

        var sent = await CreateAsync(workspace, "events", """{"type": "order.paid", "payload": {"order": 7}}""");
        var eventId = (string)sent["id"]!;
        (await cadre.RunAsync(workspace, "events", "get", eventId)).ShouldSucceed().Output.ShouldContain("order.paid");
        ((string)(await GetAsync(workspace, "events", eventId))["type"]!).ShouldBe("order.paid");
        (await cadre.RunAsync(workspace, "events", "replay", eventId)).ShouldSucceed();

        var invalid = await cadre.RunAsync(workspace, ["events", "create", "-f", "-"], """{"type": "order.paid", "payload": {"order": "seven"}}""");
        invalid.ShouldFailWith(1);
        invalid.Error.ShouldContain("(HTTP 422)");
        invalid.Error.ShouldContain("payload");
        (await cadre.RunAsync(workspace, "events", "get", "evt_nosuchevent")).ShouldFailWith(4);

        await DeleteThenGoneAsync(workspace, "event-types", "order.paid");
    }

    [Fact]
    public async Task Approvals_ListAndGet_AnUnknownApprovalExits4()
    {
        var workspace = await cadre.CreateWorkspaceAsync("a-every");
        var approver = (string)(await CreateAsync(workspace, "service-accounts", "name: approver\nrole: operator\n"))["id"]!;
        await CreateAsync(workspace, "workflows", $$$"""
            name: gate
            steps:
              - id: signoff
                activity: {uniqueIdentifier: approval}
                input: {message: "Ship?"}
                approval: {approvers: ["{{{approver}}}"]}
            """);
        var runId = (string)(await cadre.RunAsync(workspace, "run", "gate", "-o", "json")).ShouldSucceed().Json()["id"]!;

        var approvals = await Eventually.HoldsAsync(
            async () => (await cadre.RunAsync(workspace, "approvals", "list", "-F", $"run={runId}", "-o", "json")).ShouldSucceed().Json().AsArray(),
            approvals => approvals.Count == 1, "the run's approval is open");
        var approvalId = (string)approvals[0]!["id"]!;
        (await cadre.RunAsync(workspace, "approvals", "list")).ShouldSucceed().Output.ShouldContain(approvalId);
        (await cadre.RunAsync(workspace, "approvals", "get", approvalId)).ShouldSucceed().Output.ShouldContain("signoff");
        var approval = await GetAsync(workspace, "approvals", approvalId);
        ((string)approval["runId"]!).ShouldBe(runId);
        ((string)approval["status"]!).ShouldBe("pending");

        (await cadre.RunAsync(workspace, "approvals", "get", "apr_nosuchapproval")).ShouldFailWith(4).Error.ShouldContain("404");
    }

    [Fact]
    public async Task Skills_CreateGetUpdateDelete_AnInvalidNameExits1NamingTheField()
    {
        var workspace = await cadre.CreateWorkspaceAsync("s-every");

        await CreateAsync(workspace, "skills", """
            name: get_weather
            kind: http
            description: The weather in a city.
            config:
              method: GET
              url: "https://weather.example.com/?city={{ args.city }}"
              parameters:
                type: object
                properties:
                  city: {type: string}
            """);
        (await cadre.RunAsync(workspace, "skills", "get", "get_weather")).ShouldSucceed().Output.ShouldContain("The weather in a city.");
        await UpdateAsync(workspace, "skills", "get_weather", """{"description": "Today's weather."}""", "description", "Today's weather.");
        await DeleteThenGoneAsync(workspace, "skills", "get_weather");

        var invalid = await cadre.RunAsync(workspace, ["skills", "create", "-f", "-"], "name: Not A Name!\nkind: http\nconfig: {url: \"https://example.com/\"}\n");
        invalid.ShouldFailWith(1);
        invalid.Error.ShouldContain("(HTTP 422)");
        invalid.Error.ShouldContain("  name: ");
    }

    [Fact]
    public async Task Guardrails_CreateGetUpdateDelete_AnUnknownKindExits1NamingTheField()
    {
        var workspace = await cadre.CreateWorkspaceAsync("g-every");

        await CreateAsync(workspace, "guardrails", "name: short\nstage: output\nkind: max_length\naction: redact\nconfig: {max: 200}\n");
        (await cadre.RunAsync(workspace, "guardrails", "get", "short")).ShouldSucceed().Output.ShouldContain("max_length");
        await UpdateAsync(workspace, "guardrails", "short", """{"action": "block"}""", "action", "block");
        await DeleteThenGoneAsync(workspace, "guardrails", "short");

        var invalid = await cadre.RunAsync(workspace, ["guardrails", "create", "-f", "-"], "name: odd\nkind: no_such_kind\naction: warn\n");
        invalid.ShouldFailWith(1);
        invalid.Error.ShouldContain("(HTTP 422)");
        invalid.Error.ShouldContain("kind");
    }

    [Fact]
    public async Task Providers_CreateGetUpdateDelete_TheKeyIsWriteOnly_AnUnknownProviderExits4()
    {
        var workspace = await cadre.CreateWorkspaceAsync("m-every");

        var created = await CreateAsync(workspace, "providers", """
            name: local-llm
            kind: openai
            baseUrl: http://127.0.0.1:1/v1
            apiKey: sk-never-shown
            defaultModel: gpt-4o-mini
            """);
        ((bool)created["apiKeySet"]!).ShouldBeTrue();
        var table = (await cadre.RunAsync(workspace, "providers", "get", "local-llm")).ShouldSucceed();
        table.Output.ShouldContain("http://127.0.0.1:1/v1");
        table.Output.ShouldNotContain("sk-never-shown");
        var updated = await UpdateAsync(workspace, "providers", "local-llm", """{"defaultModel": "gpt-4o"}""", "defaultModel", "gpt-4o");
        updated.ToJsonString().ShouldNotContain("sk-never-shown");
        await DeleteThenGoneAsync(workspace, "providers", "local-llm");

        (await cadre.RunAsync(workspace, ["providers", "update", "local-llm", "-f", "-"], "{\"maxRetries\": 1}")).ShouldFailWith(4);
    }

    [Fact]
    public async Task Secrets_CreateGetUpdateDelete_ADuplicateExits5()
    {
        var workspace = await cadre.CreateWorkspaceAsync("x-every");

        await CreateAsync(workspace, "secrets", """{"name": "crm-token", "value": "v1-secret", "description": "The CRM's token"}""");
        var table = (await cadre.RunAsync(workspace, "secrets", "get", "crm-token")).ShouldSucceed();
        table.Output.ShouldContain("The CRM's token");
        table.Output.ShouldNotContain("v1-secret");
        var updated = await UpdateAsync(workspace, "secrets", "crm-token", "value: v2-secret\ndescription: Rotated\n", "description", "Rotated");
        updated.ToJsonString().ShouldNotContain("v2-secret");

        var duplicate = await cadre.RunAsync(workspace, ["secrets", "create", "-f", "-"], """{"name": "crm-token", "value": "again"}""");
        duplicate.ShouldFailWith(5);
        duplicate.Error.ShouldContain("409");

        await DeleteThenGoneAsync(workspace, "secrets", "crm-token");
    }

    [Fact]
    public async Task ServiceAccountsAndKeys_CreateGetUpdateDelete_AnUnknownRoleExits1NamingTheField()
    {
        var workspace = await cadre.CreateWorkspaceAsync("k-every");

        var account = (string)(await CreateAsync(workspace, "service-accounts", "name: deployer\nrole: editor\n"))["id"]!;
        (await cadre.RunAsync(workspace, "service-accounts", "get", account)).ShouldSucceed().Output.ShouldContain("deployer");
        await UpdateAsync(workspace, "service-accounts", account, """{"description": "Deploys."}""", "description", "Deploys.");

        (await cadre.RunAsync(workspace, "keys", "create", "--service-account", "deployer", "--name", "ci")).ShouldSucceed();
        var keyId = (string)(await cadre.RunAsync(workspace, "keys", "list", "-o", "json")).ShouldSucceed().Json().AsArray()
            .Single(k => (string)k!["name"]! == "ci")!["id"]!;
        (await cadre.RunAsync(workspace, "keys", "get", keyId)).ShouldSucceed().Output.ShouldContain("deployer");
        ((string)(await GetAsync(workspace, "keys", keyId))["status"]!).ShouldBe("active");
        (await cadre.RunAsync(workspace, "keys", "delete", keyId)).ShouldSucceed().Error.ShouldContain($"Revoked API key {keyId}.");
        // Deleting a key revokes it: it stays on record (for the audit), no longer a 404.
        ((string)(await GetAsync(workspace, "keys", keyId))["status"]!).ShouldBe("revoked");

        (await cadre.RunAsync(workspace, "keys", "get", "key_nosuchkey")).ShouldFailWith(4);

        var invalid = await cadre.RunAsync(workspace, ["service-accounts", "create", "-f", "-"], "name: robot\nrole: overlord\n");
        invalid.ShouldFailWith(1);
        invalid.Error.ShouldContain("(HTTP 422)");
        invalid.Error.ShouldContain("role");

        await DeleteThenGoneAsync(workspace, "service-accounts", account);
    }

    [Fact]
    public async Task Webhooks_CreateGetUpdateDelete_ANonHttpUrlExits1NamingTheField()
    {
        var workspace = await cadre.CreateWorkspaceAsync("h-every");
        await CreateAsync(workspace, "event-types", "name: order.paid\n");

        var id = (string)(await CreateAsync(workspace, "webhooks", """
            url: https://hooks.example.com/cadre
            eventTypes: [order.paid]
            """))["id"]!;
        (await cadre.RunAsync(workspace, "webhooks", "get", id)).ShouldSucceed().Output.ShouldContain("https://hooks.example.com/cadre");
        // The list's ACTIVE column reads the API's isActive.
        (await cadre.RunAsync(workspace, "webhooks", "list")).ShouldSucceed().Output.ShouldMatch(@"https://hooks\.example\.com/cadre\s+order\.paid\s+true\s");
        await UpdateAsync(workspace, "webhooks", id, """{"description": "Orders."}""", "description", "Orders.");
        await DeleteThenGoneAsync(workspace, "webhooks", id);

        var invalid = await cadre.RunAsync(workspace, ["webhooks", "create", "-f", "-"], "url: ftp://hooks.example.com/\neventTypes: [order.paid]\n");
        invalid.ShouldFailWith(1);
        invalid.Error.ShouldContain("(HTTP 422)");
        invalid.Error.ShouldContain("  url: ");
    }

    [Fact]
    public async Task Files_ListGetDelete_AnUnknownFileExits4()
    {
        var workspace = await cadre.CreateWorkspaceAsync("f-every");
        var fileId = await UploadAsync(workspace, "notes.txt", "Remember the milk.");

        (await cadre.RunAsync(workspace, "files", "list")).ShouldSucceed().Output.ShouldContain("notes.txt");
        (await cadre.RunAsync(workspace, "files", "get", fileId)).ShouldSucceed().Output.ShouldContain("text/plain");
        var file = await GetAsync(workspace, "files", fileId);
        ((string)file["status"]!).ShouldBe("ready");
        ((long)file["size"]!).ShouldBe(18);
        await DeleteThenGoneAsync(workspace, "files", fileId);

        (await cadre.RunAsync(workspace, "files", "delete", "file_nosuchfile")).ShouldFailWith(4);
    }

    private async Task<JsonNode> CreateAsync(string? workspace, string resource, string document) =>
        (await cadre.RunAsync(workspace, [resource, "create", "-f", "-", "-o", "json"], document)).ShouldSucceed().Json();

    private async Task<JsonNode> GetAsync(string? workspace, string resource, string id) =>
        (await cadre.RunAsync(workspace, resource, "get", id, "-o", "json")).ShouldSucceed().Json();

    /// <summary>Patches <paramref name="id"/>, then reads it back: <paramref name="member"/> is now <paramref name="expected"/>.</summary>
    private async Task<JsonNode> UpdateAsync(string? workspace, string resource, string id, string patch, string member, string expected)
    {
        (await cadre.RunAsync(workspace, [resource, "update", id, "-f", "-"], patch)).ShouldSucceed().Error.ShouldStartWith("Updated ");
        var after = await GetAsync(workspace, resource, id);
        ((string)after[member]!).ShouldBe(expected);
        return after;
    }

    private async Task DeleteThenGoneAsync(string? workspace, string resource, string id)
    {
        (await cadre.RunAsync(workspace, resource, "delete", id)).ShouldSucceed().Error.ShouldStartWith("Deleted ");
        var gone = await cadre.RunAsync(workspace, resource, "get", id);
        gone.ShouldFailWith(4);
        gone.Error.ShouldContain("404");
    }

    private Task<string> RunStatusAsync(string workspace, string runId, Func<string, bool> holds) =>
        Eventually.HoldsAsync(
            async () => (string)(await GetAsync(workspace, "runs", runId))["status"]!,
            holds, $"run {runId}'s status");

    /// <summary>A file uploaded as a browser would: the signed URL from the API, then the bytes to it (the CLI has no upload verb).</summary>
    private async Task<string> UploadAsync(string workspace, string name, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        using var admin = cadre.Admin();
        var upload = await (await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/files/upload-url",
            new { name, contentType = "text/plain", size = bytes.Length })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>();
        using var anonymous = new HttpClient();
        using var content = new ByteArrayContent(bytes) { Headers = { ContentType = new("text/plain") } };
        (await anonymous.PutAsync(new Uri((string)upload!["uploadUrl"]!), content)).EnsureSuccessStatusCode();
        return (string)upload["storageId"]!;
    }
}
