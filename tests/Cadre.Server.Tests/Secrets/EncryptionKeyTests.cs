using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Cadre.Secrets;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Secrets;

/// <summary>The key behind workspace secrets: where it comes from, what a wrong one does, and moving to a new one.</summary>
public sealed class EncryptionKeyTests
{
    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static Dictionary<string, string?> Keys(string key, string? previous = null) => new()
    {
        ["Cadre:Encryption:Key"] = key,
        ["Cadre:Encryption:PreviousKeys"] = previous,
    };

    private static Task<CadreApp> RestartAsync(CadreApp earlier, IDictionary<string, string?>? settings = null) =>
        CadreApp.StartAsync(earlier.Database, settings, databaseSetting: earlier.DatabaseSetting, dataDir: earlier.DataDir, adminKey: earlier.AdminKey);

    private static async Task CreateSecretAsync(CadreApp app, string workspace, string ownerKey, string name, string value)
    {
        using var owner = app.Client(ownerKey);
        await (await owner.PostJsonAsync($"/api/v1/workspaces/{workspace}/secrets", new { name, value })).ShouldBeAsync(HttpStatusCode.Created);
    }

    private static async Task<string?> RevealAsync(CadreApp app, string workspaceId, string name)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<SecretService>().RevealAsync(workspaceId, name, CancellationToken.None);
    }

    private static async Task<JsonObject> StatusAsync(CadreApp app)
    {
        using var admin = app.AdminClient();
        var response = await admin.GetAsync("/api/v1/admin/encryption");
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return await response.ReadObjectAsync();
    }

    private static async Task<JsonObject> RotateAsync(CadreApp app)
    {
        using var admin = app.AdminClient();
        var response = await admin.PostAsync("/api/v1/admin/encryption/rotate", null);
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return await response.ReadObjectAsync();
    }

    private static int SecretsUnder(JsonObject status, string keyId) =>
        status["keys"]!.AsArray().Where(k => (string)k!["keyId"]! == keyId).Select(k => (int)k!["secrets"]!).SingleOrDefault();

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task FirstStart_NoKeySetting_CreatesAKeyFileOnlyItsOwnerReads_AndKeepsUsingIt()
    {
        string keyFile;
        string keyText;
        string workspaceId;
        string dataDir;
        string databaseSetting;
        string adminKey;
        var value = "canary-" + Guid.NewGuid().ToString("N");
        await using (var first = await CadreApp.StartAsync(DatabaseKind.Sqlite))
        {
            keyFile = Path.Combine(first.DataDir, EncryptionKeys.KeyFileName);
            File.Exists(keyFile).ShouldBeTrue();
            File.GetUnixFileMode(keyFile).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            keyText = (await File.ReadAllTextAsync(keyFile)).Trim();
            Convert.FromBase64String(keyText).Length.ShouldBe(32);
            first.Logs.Messages.ShouldNotContain(m => m.Contains(keyText, StringComparison.Ordinal));
            var status = await StatusAsync(first);
            ((string)status["source"]!).ShouldBe("file");
            var workspace = await first.CreateWorkspaceAsync();
            await CreateSecretAsync(first, workspace.Name, workspace.OwnerKey, "token", value);
            (workspaceId, dataDir, databaseSetting, adminKey) = (workspace.Id, first.DataDir, first.DatabaseSetting, first.AdminKey);
        }

        await using var second = await CadreApp.StartAsync(DatabaseKind.Sqlite, databaseSetting: databaseSetting, dataDir: dataDir, adminKey: adminKey);

        (await File.ReadAllTextAsync(keyFile)).Trim().ShouldBe(keyText);
        (await RevealAsync(second, workspaceId, "token")).ShouldBe(value);
    }

    [Theory, AllDatabases]
    public async Task Rotate_OldKeyKeptAsPrevious_MovesEverySecretToTheNewKey(DatabaseKind db)
    {
        var (oldKey, newKey) = (NewKey(), NewKey());
        var values = Enumerable.Range(0, 3).Select(_ => "canary-" + Guid.NewGuid().ToString("N")).ToList();
        await using var first = await CadreApp.StartAsync(db, Keys(oldKey));
        var workspace = await first.CreateWorkspaceAsync();
        var other = await first.CreateWorkspaceAsync();
        await CreateSecretAsync(first, workspace.Name, workspace.OwnerKey, "one", values[0]);
        await CreateSecretAsync(first, other.Name, other.OwnerKey, "two", values[1]);
        var oldId = (string)(await StatusAsync(first))["keyId"]!;
        await first.DisposeAsync();

        await using var rotating = await RestartAsync(first, Keys(newKey, previous: oldKey));
        var before = await StatusAsync(rotating);
        var newId = (string)before["keyId"]!;
        newId.ShouldNotBe(oldId);
        ((string)before["source"]!).ShouldBe("environment");
        SecretsUnder(before, oldId).ShouldBe(2);
        (await RevealAsync(rotating, workspace.Id, "one")).ShouldBe(values[0]);
        await CreateSecretAsync(rotating, workspace.Name, workspace.OwnerKey, "three", values[2]);

        var rotated = await RotateAsync(rotating);

        ((string)rotated["keyId"]!).ShouldBe(newId);
        ((int)rotated["reEncrypted"]!).ShouldBe(2);
        ((int)rotated["alreadyCurrent"]!).ShouldBe(1);
        rotated["failed"]!.AsArray().ShouldBeEmpty();
        SecretsUnder(await StatusAsync(rotating), oldId).ShouldBe(0);
        SecretsUnder(await StatusAsync(rotating), newId).ShouldBe(3);
        ((int)(await RotateAsync(rotating))["reEncrypted"]!).ShouldBe(0);
        // Rotation does not change the secrets as their users see them.
        using (var owner = rotating.Client(workspace.OwnerKey))
        {
            ((int)(await (await owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/secrets/one")).ReadObjectAsync())["version"]!).ShouldBe(1);
        }

        await rotating.DisposeAsync();

        await using var after = await RestartAsync(first, Keys(newKey));
        (await RevealAsync(after, workspace.Id, "one")).ShouldBe(values[0]);
        (await RevealAsync(after, other.Id, "two")).ShouldBe(values[1]);
        (await RevealAsync(after, workspace.Id, "three")).ShouldBe(values[2]);
        after.Logs.Messages.ShouldNotContain(m => values.Any(v => m.Contains(v, StringComparison.Ordinal)) || m.Contains(newKey, StringComparison.Ordinal));
    }

    [Theory, AllDatabases]
    public async Task Start_WithoutTheSealingKey_SecretsAreUnreadable_RotationReportsThem_AndANewValueHeals(DatabaseKind db)
    {
        await using var first = await CadreApp.StartAsync(db, Keys(NewKey()));
        var workspace = await first.CreateWorkspaceAsync();
        await CreateSecretAsync(first, workspace.Name, workspace.OwnerKey, "token", "canary-" + Guid.NewGuid().ToString("N"));
        var lostId = (string)(await StatusAsync(first))["keyId"]!;
        await first.DisposeAsync();

        await using var app = await RestartAsync(first, Keys(NewKey()));

        var unreadable = await Should.ThrowAsync<SecretUnreadableException>(() => RevealAsync(app, workspace.Id, "token"));
        unreadable.Message.ShouldContain("'token'");
        unreadable.Message.ShouldContain(lostId);
        var status = await StatusAsync(app);
        status["keys"]!.AsArray().Single(k => (string)k!["keyId"]! == lostId)!["readable"]!.GetValue<bool>().ShouldBeFalse();
        var rotated = await RotateAsync(app);
        ((int)rotated["reEncrypted"]!).ShouldBe(0);
        var failure = rotated["failed"]!.AsArray().Single()!;
        ((string)failure["workspace"]!).ShouldBe(workspace.Name);
        ((string)failure["secret"]!).ShouldBe("token");
        using var owner = app.Client(workspace.OwnerKey);
        await (await owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/secrets/token")).ShouldBeAsync(HttpStatusCode.OK);
        var ownerWorkspace = workspace with { Owner = owner };
        var flow = await ownerWorkspace.CreateFlowAsync([new { id = "use", activity = new { uniqueIdentifier = "transform" }, input = new { token = "{{ secrets.token }}" } }]);
        var run = await ownerWorkspace.StartAsync(flow);
        ((string)run["status"]!).ShouldBe("failed");
        var error = RunApi.Step(run, "use")["error"]!;
        ((string)error["type"]!).ShouldBe("secret_unreadable");
        ((string)error["message"]!).ShouldContain(lostId);

        await (await owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}/secrets/token", new { value = "a-new-value-0123" })).ShouldBeAsync(HttpStatusCode.OK);

        (await RevealAsync(app, workspace.Id, "token")).ShouldBe("a-new-value-0123");
    }

    [Theory, AllDatabases]
    public async Task Ciphertext_AlteredOrMovedToAnotherSecret_DoesNotDecrypt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        await CreateSecretAsync(app, workspace.Name, workspace.OwnerKey, "altered", "canary-" + Guid.NewGuid().ToString("N"));
        await CreateSecretAsync(app, workspace.Name, workspace.OwnerKey, "source", "canary-" + Guid.NewGuid().ToString("N"));
        await CreateSecretAsync(app, workspace.Name, workspace.OwnerKey, "target", "canary-" + Guid.NewGuid().ToString("N"));
        await CreateSecretAsync(app, other.Name, other.OwnerKey, "source", "canary-" + Guid.NewGuid().ToString("N"));
        using (var scope = app.Services.CreateScope())
        {
            var dbContext = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            var rows = await dbContext.Secrets.Where(s => s.WorkspaceId == workspace.Id || s.WorkspaceId == other.Id).ToListAsync();
            var altered = rows.Single(s => s.Name == "altered" && s.WorkspaceId == workspace.Id);
            var flipped = altered.Ciphertext.ToArray();
            flipped[^20] ^= 0x01;
            altered.Ciphertext = flipped;
            rows.Single(s => s.Name == "target").Ciphertext = rows.Single(s => s.Name == "source" && s.WorkspaceId == workspace.Id).Ciphertext;
            // Same name, another workspace: the associated data names the workspace too.
            rows.Single(s => s.Name == "source" && s.WorkspaceId == other.Id).Ciphertext = rows.Single(s => s.Name == "source" && s.WorkspaceId == workspace.Id).Ciphertext;
            await dbContext.SaveChangesAsync();
        }

        (await Should.ThrowAsync<SecretUnreadableException>(() => RevealAsync(app, workspace.Id, "altered"))).Message.ShouldContain("altered or belongs to another secret");
        await Should.ThrowAsync<SecretUnreadableException>(() => RevealAsync(app, workspace.Id, "target"));
        await Should.ThrowAsync<SecretUnreadableException>(() => RevealAsync(app, other.Id, "source"));
        (await RevealAsync(app, workspace.Id, "source")).ShouldNotBeNull();
    }
}
