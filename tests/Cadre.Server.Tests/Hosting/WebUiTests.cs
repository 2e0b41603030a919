using System.Net;
using System.Text.RegularExpressions;
using Cadre.Storage;

namespace Cadre.Server.Tests.Hosting;

/// <summary>The web UI served beside the API: its pages and files, and never in the API's way (docs/web.md).</summary>
public sealed partial class WebUiTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/login")]
    [InlineData("/w/acme/workflows")]
    [InlineData("/nothing-here")]
    public async Task PageAddress_AnswersTheUisIndex(string path)
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        using var browser = app.Client();

        using var response = await browser.SendAsync(HtmlRequest(HttpMethod.Get, path));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        response.Headers.CacheControl!.NoCache.ShouldBeTrue();
        (await response.Content.ReadAsStringAsync()).ShouldContain("<div id=\"root\"></div>");
    }

    [Theory]
    [InlineData("/api/v1/nothing-here")]
    [InlineData("/api/v1/workspaces/acme/nothing-here")]
    [InlineData("/api")]
    [InlineData("/API/v1/nothing-here")]
    [InlineData("/hooks")]
    [InlineData("/openapi/nothing.txt")]
    [InlineData("/metrics/nothing")]
    [InlineData("/w//acme//workflows")]
    public async Task UnknownServerPath_IsAProblem404_EvenForABrowser(string path)
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        using var browser = app.Client();

        await (await browser.SendAsync(HtmlRequest(HttpMethod.Get, path))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PageAddress_WithAnotherMethod_IsAProblem404()
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        using var client = app.Client();

        await (await client.PostAsync("/w/acme/workflows", new StringContent("{}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task HashedAsset_IsServedAndCachedForGood()
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        using var browser = app.Client();
        var index = await browser.GetStringAsync("/");
        var script = ScriptPath().Match(index);
        script.Success.ShouldBeTrue(index);

        using var response = await browser.GetAsync(script.Groups["path"].Value);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/javascript");
        response.Headers.CacheControl!.ToString().ShouldContain("immutable");
    }

    private static HttpRequestMessage HtmlRequest(HttpMethod method, string path)
    {
        // What a browser sends when it navigates to an address.
        var request = new HttpRequestMessage(method, path);
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        return request;
    }

    [GeneratedRegex("<script type=\"module\" crossorigin src=\"(?<path>/assets/[^\"]+\\.js)\"")]
    private static partial Regex ScriptPath();
}
