using System.Text.Json.Nodes;
using Cadre.Cli.Tests.Infrastructure;

namespace Cadre.Cli.Tests;

/// <summary><c>cadre &lt;resource&gt; list|get|create|update|delete</c>: the API's verbs, output formats, and errors as exit codes.</summary>
public sealed class ResourceCommandTests(CadreInstance cadre) : IClassFixture<CadreInstance>
{
    private const string PersonaYaml = """
        name: billing
        displayName: Penny from Billing
        description: Answers billing questions.
        instructions: You are a billing assistant.
        model:
          provider: openai
          model: gpt-4o-mini
        tags: [billing, "2024"]
        """;

    [Fact]
    public async Task Personas_CreateListGetUpdateDelete_FromYamlOnStandardInput()
    {
        var workspace = await cadre.CreateWorkspaceAsync("verbs");

        var created = await cadre.RunAsync(workspace, ["personas", "create", "-f", "-", "-o", "json"], PersonaYaml);
        created.ShouldSucceed();
        created.Error.ShouldContain("Created persona billing.");
        var persona = created.Json();
        persona["displayName"]!.GetValue<string>().ShouldBe("Penny from Billing");
        // A quoted YAML scalar stays a string; a plain one would have been a number.
        persona["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(["billing", "2024"]);

        var table = (await cadre.RunAsync(workspace, "personas", "list")).ShouldSucceed();
        table.Output.ShouldContain("NAME");
        table.Output.ShouldContain("Penny from Billing");
        table.Output.ShouldContain("gpt-4o-mini");

        var yaml = (await cadre.RunAsync(workspace, "personas", "get", "billing", "-o", "yaml")).ShouldSucceed();
        yaml.Output.ShouldContain("name: billing");
        yaml.Output.ShouldMatch(@"- ['""]2024['""]");

        var updated = (await cadre.RunAsync(workspace, ["personas", "update", "billing", "-f", "-", "-o", "json"], "{\"displayName\": \"Penny's desk\"}")).ShouldSucceed();
        updated.Json()["version"]!.GetValue<int>().ShouldBe(2);
        // JSON for people and files: an apostrophe stays one (no \u0027).
        updated.Output.ShouldContain("\"displayName\": \"Penny's desk\"");

        var stale = await cadre.RunAsync(workspace, ["personas", "update", "billing", "--if-match", "1", "-f", "-"], "{\"displayName\": \"Old\"}");
        stale.ShouldFailWith(5);
        stale.Error.ShouldContain("412");

        (await cadre.RunAsync(workspace, "personas", "delete", "billing")).ShouldSucceed().Error.ShouldContain("Deleted persona billing.");
        var bin = (await cadre.RunAsync(workspace, "personas", "list", "--deleted", "-o", "json")).ShouldSucceed();
        bin.Json().AsArray().Select(p => p!["name"]!.GetValue<string>()).ShouldBe(["billing"]);
        (await cadre.RunAsync(workspace, "personas", "restore", "billing")).ShouldSucceed();
        (await cadre.RunAsync(workspace, "personas", "get", "billing", "-o", "json")).ShouldSucceed().Json()["displayName"]!.GetValue<string>().ShouldBe("Penny's desk");

        // For good: from the bin, by name.
        (await cadre.RunAsync(workspace, "personas", "delete", "billing")).ShouldSucceed();
        (await cadre.RunAsync(workspace, "personas", "delete", "billing", "--permanent")).ShouldSucceed();
        (await cadre.RunAsync(workspace, "personas", "list", "--deleted", "-o", "json")).ShouldSucceed().Json().AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task Create_InvalidDocument_PrintsEachFieldsProblem_AndExits1()
    {
        var workspace = await cadre.CreateWorkspaceAsync("invalid");

        var result = await cadre.RunAsync(workspace, ["personas", "create", "-f", "-"], "name: Not A Valid Name!\n");

        result.ShouldFailWith(1);
        result.Error.ShouldStartWith("error: ");
        result.Error.ShouldContain("(HTTP 422)");
        result.Error.ShouldContain("  name: ");
        result.Error.ShouldNotContain("{\"");
        (await cadre.RunAsync(workspace, "personas", "list", "-o", "json")).ShouldSucceed().Json().AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task Get_Missing_Exits4_AndUnreadableFile_Exits2()
    {
        var workspace = await cadre.CreateWorkspaceAsync("missing");

        var missing = await cadre.RunAsync(workspace, "workflows", "get", "no-such-flow");
        missing.ShouldFailWith(4);
        missing.Error.ShouldContain("404");

        var unreadable = await cadre.RunAsync(workspace, "skills", "create", "-f", "/no/such/file.yaml");
        unreadable.ShouldFailWith(2);
        unreadable.Error.ShouldContain("Cannot read /no/such/file.yaml");

        var badYaml = await cadre.RunAsync(workspace, ["skills", "create", "-f", "-"], "name: [unclosed\n");
        badYaml.ShouldFailWith(2);
        badYaml.Error.ShouldContain("not valid YAML");
    }

    [Fact]
    public async Task AViewersKey_MayListButNotCreate_Exits3()
    {
        var workspace = await cadre.CreateWorkspaceAsync("viewer");
        var viewerKey = await cadre.CreateKeyAsync(workspace, "viewer");
        var asViewer = new Dictionary<string, string?> { ["CADRE_KEY"] = viewerKey };

        (await cadre.RunAsync(workspace, ["personas", "list"], environment: asViewer)).ShouldSucceed();
        var refused = await cadre.RunAsync(workspace, ["personas", "create", "-f", "-"], PersonaYaml, asViewer);

        refused.ShouldFailWith(3);
        refused.Error.ShouldContain("403");
        (await cadre.RunAsync(workspace, "personas", "list", "-o", "json")).ShouldSucceed().Json().AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task EveryResourcesList_AnswersJson()
    {
        var workspace = await cadre.CreateWorkspaceAsync("lists");

        foreach (var resource in new[] { "workspaces", "personas", "workflows", "runs", "events", "event-types", "approvals", "skills", "guardrails",
                     "providers", "secrets", "keys", "service-accounts", "webhooks", "files" })
        {
            var result = await cadre.RunAsync(workspace, resource, "list", "-o", "json");
            result.ShouldSucceed();
            result.Json().ShouldBeOfType<JsonArray>($"{resource} list");
        }
    }

    [Fact]
    public async Task List_FollowsThePagesUpToTheLimit_AndSaysWhatIsLeft()
    {
        var workspace = await cadre.CreateWorkspaceAsync("pages");
        for (var i = 0; i < 7; i++)
        {
            (await cadre.RunAsync(workspace, ["secrets", "create", "-f", "-"], $"{{\"name\": \"s{i}\", \"value\": \"secret-value-{i}\"}}")).ShouldSucceed();
        }

        var limited = (await cadre.RunAsync(workspace, "secrets", "list", "--limit", "3")).ShouldSucceed();
        limited.Error.ShouldContain("3 of 7 secrets");
        (await cadre.RunAsync(workspace, "secrets", "list", "--all", "-o", "json")).ShouldSucceed().Json().AsArray().Count.ShouldBe(7);
        (await cadre.RunAsync(workspace, "secrets", "list", "-q", "s4", "-o", "json")).ShouldSucceed().Json().AsArray().Count.ShouldBe(1);
        // A secret's value never comes back (a value no random ID can contain by chance, as "v1" could).
        (await cadre.RunAsync(workspace, "secrets", "get", "s1", "-o", "json")).ShouldSucceed().Output.ShouldNotContain("secret-value-1");
    }

    [Fact]
    public async Task NoWorkspace_Exits2_AndAnUnreachableServer_Exits6()
    {
        var noWorkspace = await cadre.RunAsync(null, "personas", "list");
        noWorkspace.ShouldFailWith(2);
        noWorkspace.Error.ShouldContain("--workspace");

        var unreachable = await cadre.RunAsync("acme", ["personas", "list"], environment: new Dictionary<string, string?> { ["CADRE_SERVER"] = "http://127.0.0.1:9" });
        unreachable.ShouldFailWith(6);
        unreachable.Error.ShouldContain("Could not reach http://127.0.0.1:9/");

        var usage = await cadre.RunAsync("acme", "personas", "list", "--no-such-option");
        usage.ShouldFailWith(2);
        usage.Error.ShouldContain("--no-such-option");
        usage.Error.ShouldContain("See `cadre personas list --help`.");

        var missingOption = await cadre.RunAsync("acme", "personas", "create");
        missingOption.ShouldFailWith(2);
        missingOption.Error.ShouldContain("--file");
    }
}
