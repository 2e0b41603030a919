using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cadre.Server.Tests.Files;

/// <summary>Runs that use uploaded files: checked at the start, described in the context, shown to models, kept while in use, and cleaned up when unused.</summary>
public sealed class FileRunTests
{
    private const string Key = "sk-fake-files-key-0123456789";

    private static async Task ConnectAsync(TestWorkspace workspace, FakeModelServer fake) =>
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = Key,
        })).ShouldBeAsync(HttpStatusCode.Created);

    private static object Step(string id, string activity, object input, string[]? dependsOn = null) =>
        new { id, activity = new { uniqueIdentifier = activity }, input, dependsOn };

    /// <summary>The parts of the last user message the fake OpenAI server received.</summary>
    private static JsonArray UserParts(FakeModelRequest request) =>
        request.Body["messages"]!.AsArray().Last(m => (string)m!["role"]! == "user")!["content"]!.AsArray();

    private static string DataUri(byte[] bytes, string mediaType) => $"data:{mediaType};base64,{Convert.ToBase64String(bytes)}";

    [Theory, AllDatabases]
    public async Task Start_WithImageAttachmentByStorageId_LlmStepSendsTheImageToTheModel(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        await ConnectAsync(workspace, fake);
        fake.Enqueue(new FakeReply { Text = "A single pixel." });
        var image = await workspace.UploadAsync(app, "pixel.png", "image/png", FileApi.Png);
        var pdf = await workspace.UploadAsync(app, "spec.pdf", "application/pdf", Encoding.ASCII.GetBytes("%PDF-1.4 fake"));
        var flow = await workspace.CreateFlowAsync([Step("look", "llm", new { prompt = "What is in the picture?", model = new { provider = "fake", model = "gpt-4o" } })]);

        var run = await workspace.StartAsync(flow, new { attachments = new object[] { new { storageId = image, purpose = "evidence" }, new { storageId = pdf } } });

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var attachment = run["context"]!["attachments"]![0]!.AsObject();
        ((string)attachment["storageId"]!).ShouldBe(image);
        ((string)attachment["name"]!).ShouldBe("pixel.png");
        ((string)attachment["contentType"]!).ShouldBe("image/png");
        ((long)attachment["size"]!).ShouldBe(FileApi.Png.Length);
        ((string)attachment["sha256"]!).ShouldBe(FileApi.Sha256(FileApi.Png));
        ((string)attachment["purpose"]!).ShouldBe("evidence");
        run["context"]!.ToJsonString().ShouldNotContain("sig=");
        var parts = UserParts(fake.Requests.Single());
        var text = (string)parts.Single(p => (string)p!["type"]! == "text")!["text"]!;
        text.ShouldStartWith("What is in the picture?");
        text.ShouldContain("pixel.png (image/png");
        text.ShouldContain("spec.pdf (application/pdf");
        text.ShouldNotContain("PDF-1.4");
        var imagePart = parts.Single(p => (string)p!["type"]! == "image_url")!;
        ((string)imagePart["image_url"]!["url"]!).ShouldBe(DataUri(FileApi.Png, "image/png"));
        var logs = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=log"));
        logs.ShouldContain(e => ((string)e["data"]!["message"]!).Contains("1 image(s): pixel.png", StringComparison.Ordinal));
        var used = await (await workspace.Owner.GetAsync(workspace.Files($"?run={run["id"]}"))).ReadObjectAsync();
        used["results"]!.AsArray().Select(f => (string)f!["id"]!).ShouldBe([pdf, image], ignoreOrder: true);
        var file = await (await workspace.Owner.GetAsync(workspace.Files($"/{image}"))).ReadObjectAsync();
        file["expiresAt"].ShouldBeNull();
        file["referencedAt"].ShouldNotBeNull();
    }

    [Theory, AllDatabases]
    public async Task Agent_WithReferenceImage_SendsItOnEveryTurn_AndImagesFalseSendsOnlyNames(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        await ConnectAsync(workspace, fake);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_1", "current_time", "{}")] });
        fake.Enqueue(new FakeReply { Text = "It is a logo." });
        fake.Enqueue(new FakeReply { Text = "Only names here." });
        var logo = await workspace.UploadAsync(app, "logo.png", "image/png", FileApi.Png);
        var agent = Step("work", "agent", new { prompt = "Describe the reference.", skills = new[] { "current_time" }, model = new { provider = "fake", model = "gpt-4o" } });
        var blind = Step("blind", "llm", new { prompt = "List the files.", images = false, model = new { provider = "fake", model = "gpt-4o" } }, ["work"]);
        var flow = await workspace.CreateFlowAsync([agent, blind]);

        var run = await workspace.StartAsync(flow, new { referenceImageIds = new[] { logo } });

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)run["context"]!["referenceImages"]![0]!["storageId"]!).ShouldBe(logo);
        ((string)run["context"]!["referenceImages"]![0]!["name"]!).ShouldBe("logo.png");
        var requests = fake.Requests;
        requests.Count.ShouldBe(3);
        foreach (var turn in requests.Take(2))
        {
            var parts = UserParts(turn);
            ((string)parts.Single(p => (string)p!["type"]! == "image_url")!["image_url"]!["url"]!).ShouldBe(DataUri(FileApi.Png, "image/png"));
            ((string)parts.Single(p => (string)p!["type"]! == "text")!["text"]!).ShouldContain("logo.png (image/png");
        }

        // The conversation the step keeps (and checkpoints) has the image's name, never its bytes.
        RunApi.Step(run, "work")["output"]!.ToJsonString().ShouldNotContain(Convert.ToBase64String(FileApi.Png));
        var named = requests[2].Body["messages"]!.AsArray().Last()!["content"]!;
        named.ToJsonString().ShouldNotContain("image_url");
        named.ToJsonString().ShouldContain("logo.png");
    }

    [Theory, AllDatabases]
    public async Task Start_NamingPendingUnknownForeignOrNonImageFiles_Returns422NamingEachPath(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var pending = (string)(await workspace.UploadUrlAsync("later.png", "image/png", FileApi.Png.Length))["storageId"]!;
        var foreign = await other.UploadAsync(app, "theirs.png", "image/png", FileApi.Png);
        var text = await workspace.UploadAsync(app, "notes.txt", "text/plain", Encoding.UTF8.GetBytes("hello"));
        var flow = await workspace.CreateFlowAsync([Step("only", "transform", new { n = 1 })]);

        var response = await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{flow}/runs"), new
        {
            attachments = new object[] { new { storageId = pending }, new { name = "link", url = "https://example.com/a.pdf" }, new { storageId = "file_unknown" }, new { storageId = 5 } },
            referenceImageIds = new[] { foreign, text },
        });

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldBe(["attachments[0].storageId", "attachments[2].storageId", "attachments[3].storageId", "referenceImageIds[0]", "referenceImageIds[1]"], ignoreOrder: true);
        problem.Errors["attachments[0].storageId"][0].ShouldContain("pending");
        problem.Errors["referenceImageIds[1]"][0].ShouldContain("not an image");
        ((int)(await (await workspace.Owner.GetAsync(workspace.Runs())).ReadObjectAsync())["count"]!).ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task Delete_FileOfRunInProgress_Returns409_AndSucceedsOnceTheRunEnded(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (approver, approverKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var id = await workspace.UploadAsync(app, "a.png", "image/png", FileApi.Png);
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "signoff", activity = new { uniqueIdentifier = "approval" }, input = new { message = "Go?" }, approval = new { approvers = new[] { approver } } },
        ]);
        var run = await workspace.StartAsync(flow, new { attachments = new[] { new { storageId = id } } }, wait: null);

        var refused = await workspace.Owner.DeleteAsync(workspace.Files($"/{id}"));

        (await refused.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain((string)run["displayId"]!);
        await (await workspace.Owner.GetAsync(workspace.Files($"/{id}/content"))).ShouldBeAsync(HttpStatusCode.OK);
        await workspace.WaitForRunAsync((string)run["id"]!, r => (string)r["status"]! == "waiting");
        var approval = (await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/approvals?run={run["id"]}")).Single();
        using var approverClient = app.Client(approverKey);
        await (await approverClient.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/approvals/{approval["id"]}/decisions", new { decision = "approve" }))
            .ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await workspace.WaitForRunAsync((string)run["id"]!))["status"]!).ShouldBe("succeeded");

        await (await workspace.Owner.DeleteAsync(workspace.Files($"/{id}"))).ShouldBeAsync(HttpStatusCode.NoContent);
        File.Exists(FileApi.PathOf(app, workspace, id)).ShouldBeFalse();
        // The run keeps what it read: the file's name and checksum, for the record.
        ((string)(await workspace.GetRunAsync((string)run["id"]!))["context"]!["attachments"]![0]!["name"]!).ShouldBe("a.png");
    }

    [Theory, AllDatabases]
    public async Task Housekeeping_DeletesExpiredUnreferencedUploads_ButKeepsReferencedOnes(DatabaseKind db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await CadreApp.StartAsync(db, services: s => s.AddSingleton<TimeProvider>(clock));
        var workspace = await app.CreateWorkspaceAsync();
        var unused = await workspace.UploadAsync(app, "unused.png", "image/png", FileApi.Png);
        var used = await workspace.UploadAsync(app, "used.png", "image/png", FileApi.Png);
        var abandoned = (string)(await workspace.UploadUrlAsync("never.png", "image/png", FileApi.Png.Length))["storageId"]!;
        var flow = await workspace.CreateFlowAsync([Step("only", "transform", new { file = "{{ context.referenceImages[0].name }}" })]);
        var run = await workspace.StartAsync(flow, new { referenceImageIds = new[] { used } });
        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());

        clock.Advance(TimeSpan.FromHours(25));

        await Eventually.HoldsAsync(
            async () => (await workspace.Owner.GetAsync(workspace.Files($"/{unused}"))).StatusCode == HttpStatusCode.NotFound,
            "the unreferenced upload is cleaned up");
        await Eventually.HoldsAsync(
            async () => (await workspace.Owner.GetAsync(workspace.Files($"/{abandoned}"))).StatusCode == HttpStatusCode.NotFound,
            "the upload that never came is cleaned up");
        File.Exists(FileApi.PathOf(app, workspace, unused)).ShouldBeFalse();
        (await (await workspace.Owner.GetAsync(workspace.Files($"/{used}/content"))).Content.ReadAsByteArrayAsync()).ShouldBe(FileApi.Png);
        ((int)(await (await workspace.Owner.GetAsync(workspace.Files())).ReadObjectAsync())["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Rerun_UsesTheSameFiles(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var image = await workspace.UploadAsync(app, "a.png", "image/png", FileApi.Png);
        var flow = await workspace.CreateFlowAsync([Step("only", "transform", new { names = "{{ context.referenceImages[0].name }}" })]);
        var first = await workspace.StartAsync(flow, new { attachments = new[] { new { storageId = image } }, referenceImageIds = new[] { image } });

        var rerun = await workspace.Owner.PostAsync(workspace.Runs($"/{first["id"]}/rerun"), null);

        await rerun.ShouldBeAsync(HttpStatusCode.Created);
        var second = await workspace.WaitForRunAsync((string)(await rerun.ReadObjectAsync())["id"]!);
        second["context"]!["attachments"]!.ToJsonString().ShouldBe(first["context"]!["attachments"]!.ToJsonString());
        ((string)second["context"]!["referenceImages"]![0]!["storageId"]!).ShouldBe(image);
        var used = await (await workspace.Owner.GetAsync(workspace.Files($"?run={second["id"]}"))).ReadObjectAsync();
        ((int)used["count"]!).ShouldBe(1);
    }
}
