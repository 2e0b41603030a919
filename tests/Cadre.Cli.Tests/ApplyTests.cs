using System.Text.Json.Nodes;
using Cadre.Cli.Tests.Infrastructure;

namespace Cadre.Cli.Tests;

/// <summary><c>cadre apply</c> and <c>cadre export</c>: a workspace's definitions as files, synced by name, idempotent, promoted with renames.</summary>
public sealed class ApplyTests(CadreInstance cadre) : IClassFixture<CadreInstance>
{
    private const string EventType = """
        kind: EventType
        name: ticket.created
        description: A helpdesk ticket was opened.
        schema:
          type: object
          properties:
            subject: {type: string}
          required: [subject]
        """;

    private const string Skill = """
        {
          "kind": "Skill",
          "name": "lookup_customer",
          "skillKind": "http",
          "description": "Finds a customer in the CRM.",
          "config": {
            "method": "GET",
            "url": "https://crm.example.com/customers?q={{ args.query }}",
            "headers": {"Authorization": "Bearer {{ secrets['crm-dev'] }}"},
            "parameters": {"type": "object", "required": ["query"], "properties": {"query": {"type": "string"}}}
          }
        }
        """;

    private const string Billing = """
        kind: Persona
        name: billing
        displayName: Penny from Billing
        instructions: |
          You are a billing assistant.
          Be brief.
        model:
          provider: openai
          model: gpt-4o-mini
          temperature: 0.2
        tags: [billing, "2024"]
        skills:
          - ref: lookup_customer
        """;

    private const string Support = """
        kind: Persona
        name: support
        displayName: Sam from Support
        instructions: You answer support questions.
        """;

    private const string Workflow = """
        kind: Workflow
        name: triage
        title: Triage tickets
        type: event
        trigger:
          eventType: ticket.created
        executingAgent: billing
        credentials:
          crm: crm-dev
        steps:
          - id: answer
            activity: {uniqueIdentifier: agent}
            input:
              persona: billing
              prompt: "Answer {{ context.body.subject }} (account {{ secrets['crm-dev'] }})"
          - id: log
            activity: {uniqueIdentifier: transform}
            dependsOn: [answer]
            input:
              text: "{{ steps.answer.output.text }}"
        """;

    [Fact]
    public async Task Apply_ADirectoryWithEachKind_CreatesThem_AndApplyingAgainChangesNothing()
    {
        var workspace = await cadre.CreateWorkspaceAsync("apply");
        var files = Files();

        var first = (await cadre.RunAsync(workspace, "apply", "-f", files)).ShouldSucceed();

        first.Output.ShouldContain("event-type/ticket.created: created");
        first.Output.ShouldContain("skill/lookup_customer: created");
        first.Output.ShouldContain("persona/billing: created");
        first.Output.ShouldContain("persona/support: created");
        first.Output.ShouldContain("workflow/triage: created");
        first.Output.ShouldContain("5 created, 0 updated, 0 unchanged, 0 deleted");
        // Dependencies first: the event type and the skill before the personas, the personas before the workflow.
        first.Output.IndexOf("event-type/", StringComparison.Ordinal).ShouldBeLessThan(first.Output.IndexOf("skill/", StringComparison.Ordinal));
        first.Output.IndexOf("persona/", StringComparison.Ordinal).ShouldBeLessThan(first.Output.IndexOf("workflow/", StringComparison.Ordinal));
        var persona = (await cadre.RunAsync(workspace, "personas", "get", "billing", "-o", "json")).ShouldSucceed().Json();
        persona["instructions"]!.GetValue<string>().ShouldBe("You are a billing assistant.\nBe brief.\n");
        persona["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(["billing", "2024"]);

        var second = (await cadre.RunAsync(workspace, "apply", "-f", files)).ShouldSucceed();

        second.Output.ShouldContain("0 created, 0 updated, 5 unchanged, 0 deleted");
        second.Output.ShouldNotContain(": updated");
        (await cadre.RunAsync(workspace, "personas", "get", "billing", "-o", "json")).ShouldSucceed().Json()["version"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task Apply_AnEditedFile_DryRunShowsTheDiffAndChangesNothing_ThenApplyUpdates()
    {
        var workspace = await cadre.CreateWorkspaceAsync("edit");
        var files = Files();
        (await cadre.RunAsync(workspace, "apply", "-f", files)).ShouldSucceed();
        await File.WriteAllTextAsync(Path.Combine(files, "personas", "billing.yaml"),
            Billing.Replace("Be brief.", "Be very brief.", StringComparison.Ordinal).Replace("temperature: 0.2", "temperature: 0.7", StringComparison.Ordinal));

        var dryRun = (await cadre.RunAsync(workspace, "apply", "-f", files, "--dry-run")).ShouldSucceed();

        dryRun.Output.ShouldContain("persona/billing: updated (dry run)");
        dryRun.Output.ShouldContain("  instructions: \"You are a billing assistant.\\nBe brief.\\n\" → \"You are a billing assistant.\\nBe very brief.\\n\"");
        dryRun.Output.ShouldContain("  model.temperature: 0.2 → 0.7");
        dryRun.Output.ShouldContain("persona/support: unchanged");
        dryRun.Output.ShouldContain("0 created, 1 updated, 4 unchanged, 0 deleted (dry run: nothing was changed)");
        var untouched = (await cadre.RunAsync(workspace, "personas", "get", "billing", "-o", "json")).ShouldSucceed().Json();
        untouched["version"]!.GetValue<int>().ShouldBe(1);
        untouched["model"]!["temperature"]!.GetValue<double>().ShouldBe(0.2);

        var applied = (await cadre.RunAsync(workspace, "apply", "-f", files)).ShouldSucceed();

        applied.Output.ShouldContain("persona/billing: updated");
        applied.Output.ShouldContain("  model.temperature: 0.2 → 0.7");
        applied.Output.ShouldContain("0 created, 1 updated, 4 unchanged, 0 deleted");
        var updated = (await cadre.RunAsync(workspace, "personas", "get", "billing", "-o", "json")).ShouldSucceed().Json();
        updated["version"]!.GetValue<int>().ShouldBe(2);
        updated["instructions"]!.GetValue<string>().ShouldContain("Be very brief.");
        // What the file does not say is left as it was.
        updated["displayName"]!.GetValue<string>().ShouldBe("Penny from Billing");
        (await cadre.RunAsync(workspace, "apply", "-f", files)).ShouldSucceed().Output.ShouldContain("0 created, 0 updated, 5 unchanged, 0 deleted");
    }

    [Fact]
    public async Task Apply_Prune_DeletesWhatTheFilesNoLongerDeclare_OnlyWhenAsked()
    {
        var workspace = await cadre.CreateWorkspaceAsync("prune");
        var files = Files();
        (await cadre.RunAsync(workspace, "apply", "-f", files)).ShouldSucceed();
        (await cadre.RunAsync(workspace, ["event-types", "create", "-f", "-"], "name: order.shipped\nschema: {type: object}\n")).ShouldSucceed();
        File.Delete(Path.Combine(files, "personas", "support.yaml"));

        var kept = (await cadre.RunAsync(workspace, "apply", "-f", files)).ShouldSucceed();
        kept.Output.ShouldContain("0 created, 0 updated, 4 unchanged, 0 deleted");
        PersonaNames(await cadre.RunAsync(workspace, "personas", "list", "-o", "json")).ShouldBe(["billing", "support"], ignoreOrder: true);

        var preview = (await cadre.RunAsync(workspace, "apply", "-f", files, "--prune", "--dry-run")).ShouldSucceed();
        preview.Output.ShouldContain("persona/support: deleted (dry run)");
        preview.Output.ShouldContain("event-type/order.shipped: deleted (dry run)");
        preview.Output.ShouldContain("0 created, 0 updated, 4 unchanged, 2 deleted (dry run: nothing was changed)");
        PersonaNames(await cadre.RunAsync(workspace, "personas", "list", "-o", "json")).ShouldBe(["billing", "support"], ignoreOrder: true);

        var pruned = (await cadre.RunAsync(workspace, "apply", "-f", files, "--prune")).ShouldSucceed();

        pruned.Output.ShouldContain("persona/support: deleted");
        pruned.Output.ShouldContain("event-type/order.shipped: deleted");
        pruned.Output.ShouldContain("0 created, 0 updated, 4 unchanged, 2 deleted");
        // Dependents go first.
        pruned.Output.IndexOf("persona/support: deleted", StringComparison.Ordinal)
            .ShouldBeLessThan(pruned.Output.IndexOf("event-type/order.shipped: deleted", StringComparison.Ordinal));
        PersonaNames(await cadre.RunAsync(workspace, "personas", "list", "-o", "json")).ShouldBe(["billing"]);
        // Into the bin, not gone for good; and the built-in event types are never pruned.
        PersonaNames(await cadre.RunAsync(workspace, "personas", "list", "--deleted", "-o", "json")).ShouldBe(["support"]);
        (await cadre.RunAsync(workspace, "event-types", "get", "run.succeeded")).ShouldSucceed();
        (await cadre.RunAsync(workspace, "apply", "-f", files, "--prune")).ShouldSucceed().Output.ShouldContain("0 created, 0 updated, 4 unchanged, 0 deleted");
    }

    [Fact]
    public async Task Apply_AnInvalidDocument_Exits2_NamingFileAndDocument_AndAppliesNothing()
    {
        var workspace = await cadre.CreateWorkspaceAsync("invalid");
        var files = Files();
        var broken = Path.Combine(files, "zz-broken.yaml");
        await File.WriteAllTextAsync(broken, "kind: Persona\nname: fine\n---\nkind: Gadget\nname: widget\n---\nkind: Workflow\ntitle: No name\n");

        var result = await cadre.RunAsync(workspace, "apply", "-f", files);

        result.ShouldFailWith(2);
        result.Error.ShouldContain($"{broken}, document 2: kind 'Gadget' is not one of EventType, Skill, Persona, Workflow.");
        result.Error.ShouldContain($"{broken}, document 3: the Workflow has no name.");
        result.Error.ShouldContain("Nothing was applied");
        (await cadre.RunAsync(workspace, "personas", "list", "-o", "json")).ShouldSucceed().Json().AsArray().ShouldBeEmpty();
        (await cadre.RunAsync(workspace, "skills", "list", "-o", "json")).ShouldSucceed().Json().AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task Apply_AnItemTheServerRejects_Exits1_WithItsProblem_AndAppliesTheOthers()
    {
        var workspace = await cadre.CreateWorkspaceAsync("reject");
        var files = Files();
        await File.WriteAllTextAsync(Path.Combine(files, "personas", "hot.yaml"),
            "kind: Persona\nname: hot\ninstructions: Too hot.\nmodel: {provider: openai, model: gpt-4o, temperature: 5}\n");

        var result = await cadre.RunAsync(workspace, "apply", "-f", files);

        result.ShouldFailWith(1);
        result.Error.ShouldContain("error: persona/hot: ");
        result.Error.ShouldContain("(HTTP 422)");
        result.Error.ShouldContain("  model.temperature: ");
        result.Output.ShouldContain("workflow/triage: created");
        result.Output.ShouldContain("5 created, 0 updated, 0 unchanged, 0 deleted, 1 failed");
        PersonaNames(await cadre.RunAsync(workspace, "personas", "list", "-o", "json")).ShouldBe(["billing", "support"], ignoreOrder: true);
    }

    [Fact]
    public async Task Export_ThenApplyToAnotherWorkspace_WithMappedNames_CreatesEqualItems_AndTheSourceIsUnchanged()
    {
        var dev = await cadre.CreateWorkspaceAsync("dev");
        var prod = await cadre.CreateWorkspaceAsync("prod");
        (await cadre.RunAsync(dev, "apply", "-f", Files())).ShouldSucceed();
        var exported = TestDirectories.Create("export");

        var export = (await cadre.RunAsync(dev, "export", "-d", exported)).ShouldSucceed();

        export.Error.ShouldContain($"Wrote 5 files to {exported}.");
        Directory.GetFiles(exported, "*.yaml", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(exported, f)).Order().ShouldBe(
            ["event-types/ticket.created.yaml", "personas/billing.yaml", "personas/support.yaml", "skills/lookup_customer.yaml", "workflows/triage.yaml"]);
        var billing = await File.ReadAllTextAsync(Path.Combine(exported, "personas", "billing.yaml"));
        billing.ShouldStartWith("kind: Persona\nname: billing\n");
        billing.ShouldContain("instructions: |\n  You are a billing assistant.\n  Be brief.\n");
        billing.ShouldNotContain("version:");
        billing.ShouldNotContain("createdAt:");
        billing.ShouldNotContain("id:");
        // The server's own layout of the steps is left out, so steps can be edited without drawing them.
        (await File.ReadAllTextAsync(Path.Combine(exported, "workflows", "triage.yaml"))).ShouldNotContain("graph:");
        (await cadre.RunAsync(dev, "apply", "-f", exported)).ShouldSucceed().Output.ShouldContain("0 created, 0 updated, 5 unchanged, 0 deleted");

        var mapping = Path.Combine(TestDirectories.Create("mapping"), "mapping.yaml");
        await File.WriteAllTextAsync(mapping, "providers:\n  openai: anthropic\n");
        string[] promote = ["apply", "-f", exported, "--map-persona", "billing=billing-prod", "--map-secret", "crm-dev=crm-prod", "--mapping", mapping];
        var promoted = (await cadre.RunAsync(prod, promote)).ShouldSucceed();

        promoted.Output.ShouldContain("persona/billing-prod: created");
        promoted.Output.ShouldContain("5 created, 0 updated, 0 unchanged, 0 deleted");
        var persona = (await cadre.RunAsync(prod, "personas", "get", "billing-prod", "-o", "json")).ShouldSucceed().Json();
        persona["displayName"]!.GetValue<string>().ShouldBe("Penny from Billing");
        persona["model"]!["provider"]!.GetValue<string>().ShouldBe("anthropic");
        var workflow = (await cadre.RunAsync(prod, "workflows", "get", "triage", "-o", "json")).ShouldSucceed().Json();
        workflow["executingAgent"]!.GetValue<string>().ShouldBe("billing-prod");
        workflow["steps"]![0]!["input"]!["persona"]!.GetValue<string>().ShouldBe("billing-prod");
        workflow["steps"]![0]!["input"]!["prompt"]!.GetValue<string>().ShouldContain("secrets['crm-prod']");
        workflow["credentials"]!["crm"]!.GetValue<string>().ShouldBe("crm-prod");
        var skill = (await cadre.RunAsync(prod, "skills", "get", "lookup_customer", "-o", "json")).ShouldSucceed().Json();
        skill["config"]!["headers"]!["Authorization"]!.GetValue<string>().ShouldBe("Bearer {{ secrets['crm-prod'] }}");

        (await cadre.RunAsync(prod, promote)).ShouldSucceed().Output.ShouldContain("0 created, 0 updated, 5 unchanged, 0 deleted");
        // One multi-document stream does the same as the directory.
        var stream = (await cadre.RunAsync(dev, "export")).ShouldSucceed();
        stream.Output.ShouldStartWith("---\nkind: EventType\n");
        (await cadre.RunAsync(dev, ["apply", "-f", "-"], stream.Output)).ShouldSucceed().Output.ShouldContain("0 created, 0 updated, 5 unchanged, 0 deleted");
    }

    /// <summary>A directory with one file per item, as a repository would hold them.</summary>
    private static string Files()
    {
        var root = TestDirectories.Create("defs");
        Directory.CreateDirectory(Path.Combine(root, "personas"));
        File.WriteAllText(Path.Combine(root, "event-types.yaml"), EventType);
        File.WriteAllText(Path.Combine(root, "lookup_customer.json"), Skill);
        File.WriteAllText(Path.Combine(root, "personas", "billing.yaml"), Billing);
        File.WriteAllText(Path.Combine(root, "personas", "support.yaml"), Support);
        File.WriteAllText(Path.Combine(root, "triage.yml"), Workflow);
        return root;
    }

    private static List<string> PersonaNames(CliResult result) =>
        [.. result.ShouldSucceed().Json().AsArray().Select(p => p!["name"]!.GetValue<string>())];
}
