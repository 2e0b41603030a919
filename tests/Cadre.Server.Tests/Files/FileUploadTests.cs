using System.Net;
using System.Text;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cadre.Server.Tests.Files;

/// <summary>Uploads: a signed URL, one PUT of exactly the declared bytes, then the file reads back as it was sent; every way an upload is refused.</summary>
public sealed class FileUploadTests
{
    [Theory, AllDatabases]
    public async Task Upload_UrlThenPut_ContentRoundTripsTheExactBytes_AndRecordsTheirSha256(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var bytes = Encoding.UTF8.GetBytes("Quarterly numbers,\n1,2,3\nnon-ASCII: é ü ✓\n");

        var upload = await workspace.UploadUrlAsync("report \"Q3\".csv", "text/csv", bytes.Length, FileApi.Sha256(bytes).ToUpperInvariant());

        var id = (string)upload["storageId"]!;
        id.ShouldStartWith("file_");
        ((string)upload["method"]!).ShouldBe("PUT");
        ((string)upload["headers"]!["Content-Type"]!).ShouldBe("text/csv");
        ((string)upload["uploadUrl"]!).ShouldContain($"/uploads/{id}?sig=");
        ((DateTime)upload["expiresAt"]!).ShouldBeInRange(DateTime.UtcNow.AddMinutes(14), DateTime.UtcNow.AddMinutes(16));
        ((string)upload["file"]!["status"]!).ShouldBe("pending");
        (await (await workspace.Owner.GetAsync(workspace.Files($"/{id}/content"))).ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("pending");

        var put = await app.PutBytesAsync((string)upload["uploadUrl"]!, bytes, "text/csv; charset=utf-8");

        await put.ShouldBeAsync(HttpStatusCode.OK);
        var ready = await put.ReadObjectAsync();
        ((string)ready["status"]!).ShouldBe("ready");
        ((string)ready["sha256"]!).ShouldBe(FileApi.Sha256(bytes));
        ((long)ready["size"]!).ShouldBe(bytes.Length);
        ready["uploadedAt"].ShouldNotBeNull();
        ((DateTime)ready["expiresAt"]!).ShouldBeInRange(DateTime.UtcNow.AddHours(23), DateTime.UtcNow.AddHours(25));
        var got = await (await workspace.Owner.GetAsync(workspace.Files($"/{id}"))).ReadObjectAsync();
        ((string)got["name"]!).ShouldBe("report \"Q3\".csv");
        ((string)got["createdBy"]!["kind"]!).ShouldBe("service_account");
        var content = await workspace.Owner.GetAsync(workspace.Files($"/{id}/content"));
        await content.ShouldBeAsync(HttpStatusCode.OK);
        (await content.Content.ReadAsByteArrayAsync()).ShouldBe(bytes);
        content.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        content.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        content.Content.Headers.ContentDisposition.FileNameStar.ShouldBe("report _Q3_.csv");
        content.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        var listed = await (await workspace.Owner.GetAsync(workspace.Files("?status=ready"))).ReadObjectAsync();
        listed["results"]!.AsArray().Select(f => (string)f!["id"]!).ShouldBe([id]);
        File.ReadAllBytes(FileApi.PathOf(app, workspace, id)).ShouldBe(bytes);
    }

    [Theory, AllDatabases]
    public async Task Put_SecondTimeToTheSameUrl_Returns403AndKeepsTheFirstBytes(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var upload = await workspace.UploadUrlAsync("a.png", "image/png", FileApi.Png.Length);
        await (await app.PutBytesAsync((string)upload["uploadUrl"]!, FileApi.Png, "image/png")).ShouldBeAsync(HttpStatusCode.OK);

        var again = await app.PutBytesAsync((string)upload["uploadUrl"]!, new byte[FileApi.Png.Length], "image/png");

        (await again.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail!.ShouldContain("used already");
        (await (await workspace.Owner.GetAsync(workspace.Files($"/{upload["storageId"]}/content"))).Content.ReadAsByteArrayAsync()).ShouldBe(FileApi.Png);
    }

    [Theory, AllDatabases]
    public async Task Put_ManyAtOnceToOneUrl_ExactlyOneStoresItsBytes(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var upload = await workspace.UploadUrlAsync("a.png", "image/png", FileApi.Png.Length);

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => app.PutBytesAsync((string)upload["uploadUrl"]!, FileApi.Png, "image/png")));

        answers.Count(a => a.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        answers.Where(a => a.StatusCode != HttpStatusCode.OK).Select(a => a.StatusCode).ShouldAllBe(s => s == HttpStatusCode.Conflict || s == HttpStatusCode.Forbidden);
        (await (await workspace.Owner.GetAsync(workspace.Files($"/{upload["storageId"]}/content"))).Content.ReadAsByteArrayAsync()).ShouldBe(FileApi.Png);
    }

    [Theory, AllDatabases]
    public async Task Put_TamperedOrMissingSignature_IsRefused(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var first = await workspace.UploadUrlAsync("a.png", "image/png", FileApi.Png.Length);
        var second = await workspace.UploadUrlAsync("b.png", "image/png", FileApi.Png.Length);
        var url = (string)first["uploadUrl"]!;
        var signature = url[(url.IndexOf("sig=", StringComparison.Ordinal) + 4)..];
        var tampered = url[..^3] + (url[^3] == 'A' ? "B" : "A") + url[^2..];

        (await (await app.PutBytesAsync(tampered, FileApi.Png, "image/png")).ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail!.ShouldContain("not valid");
        (await (await app.PutBytesAsync(url[..url.IndexOf('?', StringComparison.Ordinal)], FileApi.Png, "image/png")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized))
            .Detail!.ShouldContain("sig");
        var otherFile = $"/uploads/{second["storageId"]}?sig={signature}";
        (await (await app.PutBytesAsync(otherFile, FileApi.Png, "image/png")).ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail!.ShouldContain("another file");

        ((string)(await (await workspace.Owner.GetAsync(workspace.Files($"/{first["storageId"]}"))).ReadObjectAsync())["status"]!).ShouldBe("pending");
        await (await app.PutBytesAsync(url, FileApi.Png, "image/png")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Put_ExpiredUrl_Returns403(DatabaseKind db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await CadreApp.StartAsync(db, services: s => s.AddSingleton<TimeProvider>(clock));
        var workspace = await app.CreateWorkspaceAsync();
        var upload = await workspace.UploadUrlAsync("a.png", "image/png", FileApi.Png.Length);

        clock.Advance(TimeSpan.FromMinutes(15));

        (await (await app.PutBytesAsync((string)upload["uploadUrl"]!, FileApi.Png, "image/png")).ShouldBeProblemAsync(HttpStatusCode.Forbidden))
            .Detail!.ShouldContain("expired");
        ((string)(await (await workspace.Owner.GetAsync(workspace.Files($"/{upload["storageId"]}"))).ReadObjectAsync())["status"]!).ShouldBe("pending");
    }

    [Theory, AllDatabases]
    public async Task Put_ContentTypeOtherThanDeclared_Returns415(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var url = (string)(await workspace.UploadUrlAsync("a.png", "image/png", FileApi.Png.Length))["uploadUrl"]!;

        (await (await app.PutBytesAsync(url, FileApi.Png, "image/jpeg")).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType)).Detail!.ShouldContain("image/png");
        await (await app.PutBytesAsync(url, FileApi.Png, "text/html")).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await (await app.PutBytesAsync(url, FileApi.Png, contentType: null)).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await (await app.PutBytesAsync(url, FileApi.Png, "image/png")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Put_MoreOrFewerBytesThanDeclared_IsRefused_KeepsNothing_AndTheUrlStillWorks(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var bytes = Encoding.UTF8.GetBytes("exactly twenty bytes");
        var upload = await workspace.UploadUrlAsync("a.txt", "text/plain", bytes.Length);
        var url = (string)upload["uploadUrl"]!;
        var longer = Encoding.UTF8.GetBytes("exactly twenty bytes and then some more");

        (await (await app.PutBytesAsync(url, longer, "text/plain")).ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Detail!.ShouldContain("nothing was read");
        (await (await app.PutBytesAsync(url, longer, "text/plain", chunked: true)).ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Detail!.ShouldContain("cut off");
        (await (await app.PutBytesAsync(url, bytes[..5], "text/plain", chunked: true)).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail!.ShouldContain("fewer");
        (await (await app.PutBytesAsync(url, bytes[..5], "text/plain")).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail!.ShouldContain("less than");

        File.Exists(FileApi.PathOf(app, workspace, (string)upload["storageId"]!)).ShouldBeFalse();
        Directory.EnumerateFiles(Path.Combine(app.DataDir, "files", ".incoming")).ShouldBeEmpty();
        await (await app.PutBytesAsync(url, bytes, "text/plain", chunked: true)).ShouldBeAsync(HttpStatusCode.OK);
        File.ReadAllBytes(FileApi.PathOf(app, workspace, (string)upload["storageId"]!)).ShouldBe(bytes);
    }

    [Theory, AllDatabases]
    public async Task Put_ChecksumMismatch_Returns422_AndKeepsNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var upload = await workspace.UploadUrlAsync("a.png", "image/png", FileApi.Png.Length, FileApi.Sha256(FileApi.Png));
        var corrupted = (byte[])FileApi.Png.Clone();
        corrupted[^1] ^= 0xFF;

        var put = await app.PutBytesAsync((string)upload["uploadUrl"]!, corrupted, "image/png");

        var problem = await put.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldBe(["sha256"]);
        problem.Detail!.ShouldContain(FileApi.Sha256(corrupted));
        var file = await (await workspace.Owner.GetAsync(workspace.Files($"/{upload["storageId"]}"))).ReadObjectAsync();
        ((string)file["status"]!).ShouldBe("pending");
        File.Exists(FileApi.PathOf(app, workspace, (string)upload["storageId"]!)).ShouldBeFalse();
        await (await workspace.Owner.GetAsync(workspace.Files($"/{upload["storageId"]}/content"))).ShouldBeProblemAsync(HttpStatusCode.Conflict);
    }

    [Theory, AllDatabases]
    public async Task UploadUrl_InvalidDeclaration_Returns422NamingEachField(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var notAllowed = await (await workspace.RequestUploadAsync(new { name = "x.exe", contentType = "application/x-msdownload", size = 10 }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        var tooLarge = await (await workspace.RequestUploadAsync(new { name = "big.png", contentType = "image/png", size = 25L * 1024 * 1024 + 1 }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        var bad = await (await workspace.RequestUploadAsync(new { name = "a/b.png", contentType = "image/*", size = -1, sha256 = "abc" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);

        notAllowed.Errors!.Keys.ShouldBe(["contentType"]);
        notAllowed.Errors["contentType"][0].ShouldContain("image/png");
        tooLarge.Errors!.Keys.ShouldBe(["size"]);
        tooLarge.Errors["size"][0].ShouldContain("25 MiB");
        bad.Errors!.Keys.ShouldBe(["name", "contentType", "size", "sha256"], ignoreOrder: true);
        ((int)(await (await workspace.Owner.GetAsync(workspace.Files())).ReadObjectAsync())["count"]!).ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task UploadUrl_UnknownField_Returns400(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var problem = await (await workspace.RequestUploadAsync(new { name = "a.png", contentType = "image/png", size = 10, mimeType = "image/png" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        string.Join(" ", (problem.Errors ?? []).SelectMany(e => e.Value.Append(e.Key)).Append(problem.Detail)).ShouldContain("mimeType");
    }

    [Theory, AllDatabases]
    public async Task Files_OfAnotherWorkspace_Answer404(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var owner = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var id = await owner.UploadAsync(app, "a.png", "image/png", FileApi.Png);

        await (await other.Owner.GetAsync(other.Files($"/{id}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await other.Owner.GetAsync(other.Files($"/{id}/content"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await other.Owner.DeleteAsync(other.Files($"/{id}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await other.Owner.GetAsync(owner.Files($"/{id}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await owner.Owner.GetAsync(owner.Files($"/{id}"))).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Viewer_ReadsFiles_ButCannotUploadOrDelete(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var id = await workspace.UploadAsync(app, "a.png", "image/png", FileApi.Png);
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        using var operatorClient = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "operator"));

        await (await workspace.RequestUploadAsync(new { name = "b.png", contentType = "image/png", size = 5 }, viewer)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await viewer.DeleteAsync(workspace.Files($"/{id}"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await viewer.GetAsync(workspace.Files($"/{id}"))).ShouldBeAsync(HttpStatusCode.OK);
        (await (await viewer.GetAsync(workspace.Files($"/{id}/content"))).Content.ReadAsByteArrayAsync()).ShouldBe(FileApi.Png);
        await (await workspace.RequestUploadAsync(new { name = "b.png", contentType = "image/png", size = 5 }, operatorClient)).ShouldBeAsync(HttpStatusCode.Created);
    }

    [Theory, AllDatabases]
    public async Task Put_FromASignedInBrowser_NeedsNoCsrfToken_TheSignatureIsTheCredential(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var user = await app.CreateUserAsync();
        await workspace.AddMemberAsync(user, "operator");
        using var browser = await app.SignInAsync(user);
        var upload = await (await workspace.RequestUploadAsync(new { name = "a.png", contentType = "image/png", size = FileApi.Png.Length }, browser.Client)).ReadObjectAsync();
        browser.Client.DefaultRequestHeaders.Remove("X-CSRF-Token");
        using var put = new HttpRequestMessage(HttpMethod.Put, (string)upload["uploadUrl"]!) { Content = new ByteArrayContent(FileApi.Png) };
        put.Content.Headers.ContentType = new("image/png");

        var response = await browser.Client.SendAsync(put);

        await response.ShouldBeAsync(HttpStatusCode.OK);
        await (await browser.Client.DeleteAsync(workspace.Files($"/{upload["storageId"]}"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory, AllDatabases]
    public async Task Delete_RemovesTheBytesAndTheRecord(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var id = await workspace.UploadAsync(app, "a.png", "image/png", FileApi.Png);
        File.Exists(FileApi.PathOf(app, workspace, id)).ShouldBeTrue();

        await (await workspace.Owner.DeleteAsync(workspace.Files($"/{id}"))).ShouldBeAsync(HttpStatusCode.NoContent);

        await (await workspace.Owner.GetAsync(workspace.Files($"/{id}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.DeleteAsync(workspace.Files($"/{id}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        File.Exists(FileApi.PathOf(app, workspace, id)).ShouldBeFalse();
    }

    [Theory, AllDatabases]
    public async Task WorkspaceDelete_RemovesItsFilesBytes(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var id = await workspace.UploadAsync(app, "a.png", "image/png", FileApi.Png);
        using var admin = app.AdminClient();

        await (await admin.DeleteAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.NoContent);

        File.Exists(FileApi.PathOf(app, workspace, id)).ShouldBeFalse();
        Directory.Exists(Path.Combine(app.DataDir, "files", workspace.Id)).ShouldBeFalse();
    }
}
