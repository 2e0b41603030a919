using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Cli.Tests.Infrastructure;

namespace Cadre.Cli.Tests;

/// <summary>
/// <c>cadre run</c> (plain, <c>--wait</c>, <c>--follow</c>), <c>cadre runs tail</c>, <c>cadre approvals approve|reject</c>,
/// <c>cadre keys create</c> and <c>cadre secrets set</c>, run as processes against a real server.
/// </summary>
public sealed partial class RunCommandTests(CadreInstance cadre) : IClassFixture<CadreInstance>
{
    private const string Story = "Once upon a time a durable engine streamed every word to the people watching it";

    [Fact]
    public async Task Run_Wait_OnTheMockModel_PrintsTheOutput_AndTailReplaysIt()
    {
        var workspace = await cadre.CreateWorkspaceAsync("run-wait");
        await CreateWorkflowAsync(workspace, """
            name: greet
            steps:
              - id: hello
                activity: {uniqueIdentifier: llm}
                input:
                  model: {provider: mock, model: "reply:Hello from the mock"}
                  prompt: Say hello.
            """);

        var waited = (await cadre.RunAsync(workspace, "run", "greet", "--wait")).ShouldSucceed();

        waited.Output.ShouldContain("Hello from the mock");
        waited.Error.ShouldMatch(@"✓ Run GREET-1 succeeded in [\d.]+ m?s · \d+ in / \d+ out tokens");
        var started = (await cadre.RunAsync(workspace, "run", "greet")).ShouldSucceed();
        started.Output.ShouldMatch(@"run_\w+\s+GREET-2\s+2\s+\w+");
        started.Error.ShouldContain("cadre runs tail run_");
        var asJson = (await cadre.RunAsync(workspace, "run", "greet", "--wait", "-o", "json")).ShouldSucceed().Json();
        ((string)asJson["status"]!).ShouldBe("succeeded");
        ((string)asJson["output"]!["text"]!).ShouldBe("Hello from the mock");

        // A finished run: its history, then its outcome.
        var tail = (await cadre.RunAsync(workspace, "runs", "tail", (string)asJson["id"]!)).ShouldSucceed();
        tail.Output.ShouldContain("Run GREET-3 of greet v1");
        tail.Output.ShouldMatch(@"▶ hello started\nHello from the mock\n");
        tail.Output.ShouldMatch(@"✓ hello succeeded in [\d.]+ m?s");
        tail.Output.ShouldContain("\"text\": \"Hello from the mock\"");
        // The list's cost column (the mock costs nothing).
        (await cadre.RunAsync(workspace, "runs", "list")).ShouldSucceed().Output.ShouldMatch(@"GREET-1\s+succeeded\s+manual\s+0\s");
    }

    [Fact]
    public async Task Run_SendsInputConfigPromptAndAttachments_AndAnIdempotencyKeyStartsOnce()
    {
        var workspace = await cadre.CreateWorkspaceAsync("run-body");
        await CreateWorkflowAsync(workspace, """
            name: mirror
            steps:
              - id: look
                activity: {uniqueIdentifier: transform}
                input:
                  body: "{{ context.body }}"
                  config: "{{ context.config }}"
                  prompt: "{{ context.prompt }}"
                  files: "{{ context.attachments }}"
            """);
        var notes = Path.Combine(TestDirectories.Create("attach"), "notes.txt");
        await File.WriteAllTextAsync(notes, "Remember the milk.");

        var result = (await cadre.RunAsync(workspace,
            ["run", "mirror", "--wait", "-i", "-", "-c", "retries=3", "-c", "mode=fast", "-p", "Be brief", "--attach", notes, "-o", "json"],
            "ticket: 4711\ntags: [a, b]\n")).ShouldSucceed();

        var output = result.Json()["output"]!;
        output["body"]!.ToJsonString().ShouldBe("""{"ticket":4711,"tags":["a","b"]}""");
        output["config"]!.ToJsonString().ShouldBe("""{"retries":3,"mode":"fast"}""");
        ((string)output["prompt"]!).ShouldBe("Be brief");
        var file = output["files"]!.AsArray().ShouldHaveSingleItem()!;
        ((string)file["name"]!).ShouldBe("notes.txt");
        ((long)file["size"]!).ShouldBe(18);
        result.Error.ShouldContain("Uploaded notes.txt (18 bytes) as file_");

        var first = (await cadre.RunAsync(workspace, "run", "mirror", "--idempotency-key", "ticket-4711", "-o", "json")).ShouldSucceed().Json();
        var again = (await cadre.RunAsync(workspace, "run", "mirror", "--idempotency-key", "ticket-4711", "-o", "json")).ShouldSucceed().Json();
        ((string)again["id"]!).ShouldBe((string)first["id"]!);
    }

    [Fact]
    public async Task Run_AFailingWorkflow_Exits1_WithTheErrorReadably()
    {
        var workspace = await cadre.CreateWorkspaceAsync("run-fail");
        await CreateWorkflowAsync(workspace, """
            name: broken
            steps:
              - id: fetch
                activity: {uniqueIdentifier: http}
                input: {url: "http://127.0.0.1:1/"}
                retryPolicy: {maximumAttempts: 1}
            """);

        var waited = await cadre.RunAsync(workspace, "run", "broken", "--wait");
        var followed = await cadre.RunAsync(workspace, "run", "broken", "--follow");

        waited.ShouldFailWith(1);
        waited.Output.ShouldBeEmpty();
        waited.Error.ShouldMatch(@"error: Run BROKEN-1 failed in [\d.]+ m?s at step fetch: http_error: .*127\.0\.0\.1:1");
        followed.ShouldFailWith(1);
        followed.Output.ShouldContain("▶ fetch started");
        followed.Output.ShouldMatch(@"✗ fetch failed in [\d.]+ m?s: http_error: ");
        followed.Error.ShouldContain("error: Run BROKEN-2 failed");
        var failed = (await cadre.RunAsync(workspace, "runs", "list", "-F", "status=failed", "-o", "json")).ShouldSucceed().Json().AsArray();
        (await cadre.RunAsync(workspace, "runs", "tail", (string)failed[0]!["id"]!)).ShouldFailWith(1).Output.ShouldContain("✗ fetch failed");
    }

    [Fact]
    public async Task Run_Follow_ShowsTheModelsTokensAsTheyArrive_ThenTheOutputAndUsage()
    {
        var workspace = await cadre.CreateWorkspaceAsync("run-follow");
        await using var model = await FakeModelServer.StartAsync();
        (await cadre.RunAsync(workspace, ["providers", "create", "-f", "-"],
            $"{{\"name\": \"fake\", \"kind\": \"openai\", \"baseUrl\": \"{model.OpenAIEndpoint}\", \"apiKey\": \"sk-test\", \"defaultModel\": \"gpt-4o\"}}")).ShouldSucceed();
        await CreateWorkflowAsync(workspace, """
            name: storyteller
            steps:
              - id: write
                activity: {uniqueIdentifier: llm}
                input:
                  model: {provider: fake, model: gpt-4o}
                  prompt: "{{ context.prompt }}"
            """);
        // Fifteen words, three a second: about five seconds in all.
        model.Enqueue(new FakeReply { Text = Story, TokensPerSecond = 3, InputTokens = 12 });

        await using var follow = CliProcess.Start(cadre, workspace, ["run", "storyteller", "--follow", "--prompt", "Tell me a short story"]);

        // The first words show while the model is still answering...
        await follow.WaitForOutputAsync("Once upon");
        model.Completed.ShouldBe(0);
        follow.Output.ShouldNotContain("watching it");
        // ...then all of them, each once and in order, the step's end, the usage and the output.
        var result = await follow.WaitForExitAsync();
        result.ShouldSucceed();
        result.Output.ShouldContain($"▶ write started\n{Story}\n");
        Regex.Count(result.Output, Regex.Escape(Story)).ShouldBe(2, "the streamed words, and the output");
        result.Output.ShouldMatch(@"write: gpt-4o · 12 in / 15 out tokens · \$");
        result.Output.ShouldMatch(@"✓ write succeeded in \d+\.\d s");
        result.Output.ShouldMatch(@"✓ Run STORYTELLER-1 succeeded in [\d.]+ s · 12 in / 15 out tokens");
        result.Output.ShouldContain($"\"text\": \"{Story}\"");
        model.Requests.ShouldHaveSingleItem().LastUserText.ShouldBe("Tell me a short story");
    }

    [Fact]
    public async Task Approvals_WaitTimesOutWith7_ThenApprovingFromTheCliLetsTheRunFinish_AndASecondDecisionExits5()
    {
        var workspace = await cadre.CreateWorkspaceAsync("run-gate");
        var (accountId, key) = await CreateApproverAsync(workspace);
        await CreateGateAsync(workspace, accountId);

        var waited = await cadre.RunAsync(workspace, "run", "gate", "--wait", "--timeout", "1s", "-o", "json");

        waited.ShouldFailWith(7);
        var run = waited.Json();
        ((string)run["status"]!).ShouldBe("waiting");
        var runId = (string)run["id"]!;
        waited.Error.ShouldContain($"is still waiting after 1.0 s; it keeps going. Follow it with `cadre runs tail {runId}`");
        var approvalId = ApprovalId().Match(waited.Error).Value;
        waited.Error.ShouldContain($"Step signoff waits for approval {approvalId}: `cadre approvals approve {approvalId}`");

        var notAnApprover = await cadre.RunAsync(workspace, "approvals", "approve", approvalId);
        notAnApprover.ShouldFailWith(3);
        notAnApprover.Error.ShouldContain("403");
        var asApprover = new Dictionary<string, string?> { ["CADRE_KEY"] = key };
        var approved = (await cadre.RunAsync(workspace, ["approvals", "approve", approvalId, "--comment", "Ship it"], environment: asApprover)).ShouldSucceed();
        approved.Error.ShouldContain($"Approved {approvalId}: the approval is approved, and step signoff of run {runId} carries on.");

        var tail = (await cadre.RunAsync(workspace, "runs", "tail", runId, "--timeout", "60s")).ShouldSucceed();
        tail.Output.ShouldContain($"⏸ signoff waiting for approval {approvalId} from {accountId}");
        tail.Output.ShouldContain($"approved {approvalId}: Ship it");
        tail.Output.ShouldContain("✓ ship succeeded");
        tail.Output.ShouldContain("\"decided\": \"approved\"");
        var twice = await cadre.RunAsync(workspace, ["approvals", "approve", approvalId], environment: asApprover);
        twice.ShouldFailWith(5);
        twice.Error.ShouldStartWith("error: ");
        twice.Error.ShouldContain("(HTTP 409)");
        (await cadre.RunAsync(workspace, "approvals", "reject", "apr_nosuchapproval")).ShouldFailWith(4);
    }

    [Fact]
    public async Task Approvals_RejectFromTheCli_FailsTheRun()
    {
        var workspace = await cadre.CreateWorkspaceAsync("run-reject");
        var (accountId, key) = await CreateApproverAsync(workspace);
        await CreateGateAsync(workspace, accountId);
        var run = (await cadre.RunAsync(workspace, "run", "gate", "-o", "json")).ShouldSucceed().Json();
        var runId = (string)run["id"]!;
        var approval = await Eventually.HoldsAsync(
            async () => (await cadre.RunAsync(workspace, "approvals", "list", "-F", $"run={runId}", "-o", "json")).ShouldSucceed().Json().AsArray(),
            approvals => approvals.Count == 1, "the run's approval is open");

        var rejected = (await cadre.RunAsync(workspace, ["approvals", "reject", (string)approval[0]!["id"]!, "-m", "Not today"],
            environment: new Dictionary<string, string?> { ["CADRE_KEY"] = key })).ShouldSucceed();

        rejected.Error.ShouldContain("the approval is rejected, and step signoff");
        var tail = await cadre.RunAsync(workspace, "runs", "tail", runId);
        tail.ShouldFailWith(1);
        tail.Error.ShouldContain("at step signoff: approval_rejected");
    }

    [InterruptibleFact]
    public async Task Run_Follow_CtrlC_Detaches_AndTheRunGoesOn()
    {
        var workspace = await cadre.CreateWorkspaceAsync("run-detach");
        var (accountId, _) = await CreateApproverAsync(workspace);
        await CreateGateAsync(workspace, accountId);
        await using var follow = CliProcess.Start(cadre, workspace, ["run", "gate", "--follow"]);
        await follow.WaitForOutputAsync("decide: cadre approvals approve apr_");

        follow.Interrupt();

        var result = await follow.WaitForExitAsync();
        result.ShouldFailWith(130);
        var runId = RunId().Match(result.Output).Value;
        result.Error.ShouldContain($"Detached from run GATE-1; it keeps going. Follow it again with `cadre runs tail {runId}`.");
        ((string)(await cadre.RunAsync(workspace, "runs", "get", runId, "-o", "json")).ShouldSucceed().Json()["status"]!).ShouldBe("waiting");
    }

    [Fact]
    public async Task Run_Errors_UnknownWorkflow4_UnreadableInput2_BadTimeout2_UnknownRun4()
    {
        var workspace = await cadre.CreateWorkspaceAsync("run-errors");
        await CreateWorkflowAsync(workspace, """
            name: noop
            steps:
              - {id: nothing, activity: {uniqueIdentifier: transform}, input: {}}
            """);

        var unknown = await cadre.RunAsync(workspace, "run", "no-such-flow", "--wait");
        var unreadable = await cadre.RunAsync(workspace, "run", "noop", "--input", "/no/such/input.yaml");
        var badTimeout = await cadre.RunAsync(workspace, "run", "noop", "--wait", "--timeout", "soon");
        var badConfig = await cadre.RunAsync(workspace, "run", "noop", "--config", "/no/such/config.yaml");
        var noRun = await cadre.RunAsync(workspace, "runs", "tail", "run_nosuchrun");

        unknown.ShouldFailWith(4);
        unknown.Error.ShouldContain("404");
        unreadable.ShouldFailWith(2);
        unreadable.Error.ShouldContain("Cannot read /no/such/input.yaml");
        badTimeout.ShouldFailWith(2);
        badTimeout.Error.ShouldContain("--timeout takes a duration such as");
        badConfig.ShouldFailWith(2);
        noRun.ShouldFailWith(4);
        noRun.Error.ShouldContain("404");
        (await cadre.RunAsync(workspace, "runs", "list", "-o", "json")).ShouldSucceed().Json().AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task KeysCreate_PrintsTheKeyOnce_AndItWorks_UnknownAccount4_BadExpiry2()
    {
        var workspace = await cadre.CreateWorkspaceAsync("keys");
        (await cadre.RunAsync(workspace, ["service-accounts", "create", "-f", "-"], "name: deployer\nrole: editor\n")).ShouldSucceed();

        var created = (await cadre.RunAsync(workspace, "keys", "create", "--service-account", "deployer", "--name", "ci", "--role", "viewer", "--expires", "30d")).ShouldSucceed();

        var key = created.Output.Trim();
        key.ShouldStartWith("cadre_");
        created.Error.ShouldContain("for service account deployer, role viewer, expiring ");
        created.Error.ShouldContain("This is the only time the key is shown");
        var me = (await cadre.RunAsync(null, ["whoami", "-o", "json"], environment: new Dictionary<string, string?> { ["CADRE_KEY"] = key })).ShouldSucceed().Json();
        ((string)me["actor"]!["name"]!).ShouldBe("deployer");
        var listed = (await cadre.RunAsync(workspace, "keys", "list", "-o", "json")).ShouldSucceed();
        listed.Output.ShouldNotContain(key);
        listed.Json().AsArray().ShouldContain(k => (string)k!["name"]! == "ci" && k["expiresAt"] != null);

        var unknown = await cadre.RunAsync(workspace, "keys", "create", "--service-account", "nobody", "--name", "ci");
        unknown.ShouldFailWith(4);
        unknown.Error.ShouldContain("No service account 'nobody'");
        var badExpiry = await cadre.RunAsync(workspace, "keys", "create", "--service-account", "deployer", "--name", "ci", "--expires", "someday");
        badExpiry.ShouldFailWith(2);
        badExpiry.Error.ShouldContain("--expires takes a duration");
    }

    [Fact]
    public async Task SecretsSet_FromStandardInput_CreatesThenReplaces_NeverEchoingTheValue()
    {
        var workspace = await cadre.CreateWorkspaceAsync("secrets");

        var created = (await cadre.RunAsync(workspace, ["secrets", "set", "token", "--value-stdin", "--description", "The API token"], "s3cr3t-one\n")).ShouldSucceed();
        var replaced = (await cadre.RunAsync(workspace, ["secrets", "set", "token", "--value-stdin"], "s3cr3t-two\n")).ShouldSucceed();

        created.Error.ShouldContain("Created secret token.");
        replaced.Error.ShouldContain("Replaced the value of secret token (now version 2).");
        foreach (var result in new[] { created, replaced })
        {
            (result.Output + result.Error).ShouldNotContain("s3cr3t");
        }

        // The new value, without its trailing newline, is what runs read.
        await CreateWorkflowAsync(workspace, """
            name: check
            steps:
              - {id: compare, activity: {uniqueIdentifier: transform}, input: {same: "{{ secrets.token == 's3cr3t-two' }}"}}
            """);
        var run = (await cadre.RunAsync(workspace, "run", "check", "--wait", "-o", "json")).ShouldSucceed().Json();
        ((bool)run["output"]!["same"]!).ShouldBeTrue();
        ((string)(await cadre.RunAsync(workspace, "secrets", "get", "token", "-o", "json")).ShouldSucceed().Json()["description"]!).ShouldBe("The API token");

        var noFlag = await cadre.RunAsync(workspace, ["secrets", "set", "token"], "s3cr3t-three\n");
        noFlag.ShouldFailWith(2);
        noFlag.Error.ShouldContain("--value-stdin");
        (await cadre.RunAsync(workspace, ["secrets", "set", "token", "--value-stdin"], "")).ShouldFailWith(2).Error.ShouldContain("The value is empty.");
        var badName = await cadre.RunAsync(workspace, ["secrets", "set", "not a name!", "--value-stdin"], "x");
        badName.ShouldFailWith(1);
        badName.Error.ShouldContain("(HTTP 422)");
    }

    private async Task CreateWorkflowAsync(string workspace, string yaml) =>
        (await cadre.RunAsync(workspace, ["workflows", "create", "-f", "-"], yaml)).ShouldSucceed();

    /// <summary>A service account that may decide approvals, and a key made for it by <c>cadre keys create</c>.</summary>
    private async Task<(string AccountId, string Key)> CreateApproverAsync(string workspace)
    {
        var account = (await cadre.RunAsync(workspace, ["service-accounts", "create", "-f", "-", "-o", "json"], "name: approver\nrole: operator\n")).ShouldSucceed().Json();
        var key = (await cadre.RunAsync(workspace, "keys", "create", "--service-account", "approver", "--name", "decisions")).ShouldSucceed().Output.Trim();
        return ((string)account["id"]!, key);
    }

    private Task CreateGateAsync(string workspace, string approverId) => CreateWorkflowAsync(workspace, $$$"""
        name: gate
        steps:
          - id: signoff
            activity: {uniqueIdentifier: approval}
            input: {message: "Ship?"}
            approval: {approvers: ["{{{approverId}}}"]}
          - id: ship
            activity: {uniqueIdentifier: transform}
            dependsOn: [signoff]
            input: {decided: "{{ steps.signoff.output.decision }}"}
        """);

    [GeneratedRegex(@"apr_\w+")]
    private static partial Regex ApprovalId();

    [GeneratedRegex(@"run_\w+")]
    private static partial Regex RunId();
}
