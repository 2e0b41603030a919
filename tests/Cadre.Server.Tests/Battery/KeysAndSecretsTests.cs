using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Storage;
using Microsoft.AspNetCore.Http;
using Npgsql;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 9: API keys, a password, secrets and a provider key, each a canary, go through a real server process on a
/// SQLite file: created, used by a workflow (sent in a header, named in a failing step's error), read back through runs,
/// events, the stream, exports and error answers, with the log at Debug. Then every response, the process's output and
/// every byte the server wrote to disk are searched for each canary (as text, base64 and hex). Keys may appear only in the
/// one response that creates them. Last, a client guesses keys until the rate limiter answers 429.
/// </summary>
[Trait("Battery", "9")]
public sealed class KeysAndSecretsTests(ITestOutputHelper output)
{
    [Theory, AllDatabases]
    public async Task KeysAndSecrets_NeverInTheClear_AndGuessingKeysIsRateLimited(DatabaseKind db)
    {
        var directory = TestDirectories.Create("battery-keys");
        var postgres = db == DatabaseKind.Postgres ? await TestPostgres.CreateDatabaseAsync() : null;
        // The write-ahead log from here on is this test's (and whatever else runs on the shared cluster meanwhile).
        var firstWalSegment = postgres is null ? null : await ScalarAsync(postgres, "SELECT pg_walfile_name(pg_current_wal_lsn())");
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        await using var echo = await FakeHttpServer.StartAsync(async context =>
        {
            // Echoes what it received, as a careless upstream would: a secret sent to it comes back in its answer.
            context.Response.StatusCode = context.Request.Path.StartsWithSegments("/deny") ? 403 : context.Request.Path.StartsWithSegments("/v1") ? 401 : 200;
            await context.Response.WriteAsJsonAsync(new
            {
                error = new { message = $"seen {context.Request.Path} with {context.Request.Headers.Authorization} {context.Request.Headers["X-Token"]}" },
            });
        });
        var environment = new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["CADRE_ENGINE_POLL_INTERVAL"] = "00:00:00.100",
            ["Logging__LogLevel__Default"] = "Debug",
        };
        if (postgres is not null)
        {
            environment["CADRE_DATABASE"] = postgres;
        }

        await using var server = ServerProcess.Start(directory, environment);
        await server.WaitUntilListeningAsync();
        var seen = new Seen();
        using var admin = server.Client(adminKey);
        var w = "/api/v1/workspaces/keys";

        // Keys: a service account's, a person's, one revoked; shown once each, in the response that creates them.
        await seen.OkAsync(admin.PostJsonAsync("/api/v1/workspaces", new { name = "keys" }));
        var account = await seen.OkAsync(admin.PostJsonAsync($"{w}/service-accounts", new { name = "ci", role = "owner" }));
        var serviceKey = await CreationAsync(admin.PostJsonAsync($"{w}/service-accounts/{account["id"]}/api-keys", new { name = "deploys" }));
        var revokedKey = await CreationAsync(admin.PostJsonAsync($"{w}/service-accounts/{account["id"]}/api-keys", new { name = "old" }));
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var user = await seen.OkAsync(admin.PostJsonAsync("/api/v1/users", new { email = "ada@example.com", displayName = "Ada", password }));
        await seen.OkAsync(admin.PostJsonAsync($"{w}/members", new { userId = user["id"], role = "editor" }));
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(server.Url) };
        var session = await seen.OkAsync(browser.PostJsonAsync("/api/v1/auth/login", new { email = "ada@example.com", password }));
        browser.DefaultRequestHeaders.Add("X-CSRF-Token", (string)session["csrfToken"]!);
        var personalKey = await CreationAsync(browser.PostJsonAsync("/api/v1/me/api-keys", new { name = "laptop" }));
        using var owner = server.Client(serviceKey);
        using var person = server.Client(personalKey);
        var keys = await seen.OkAsync(owner.GetAsync($"{w}/api-keys"));
        var revokedId = keys["results"]!.AsArray().Single(k => (string)k!["name"]! == "old")!["id"]!;
        await seen.OkAsync(owner.DeleteAsync($"{w}/api-keys/{revokedId}"));

        // Secrets: a workspace secret and a provider's key.
        var secret = "sv-" + Guid.NewGuid().ToString("N");
        var providerKey = "pk-" + Guid.NewGuid().ToString("N");
        await seen.OkAsync(owner.PostJsonAsync($"{w}/secrets", new { name = "token", value = secret }));
        await seen.OkAsync(owner.PostJsonAsync($"{w}/providers", new { name = "vendor", kind = "openai", baseUrl = echo.Address + "v1", apiKey = providerKey }));
        var tested = await seen.OkAsync(owner.PostJsonAsync($"{w}/providers/vendor/test", new { model = "any" }));
        ((bool)tested["ok"]!).ShouldBeFalse();
        ((string)tested["error"]!).ShouldContain("Bearer [provider key]", customMessage: "the provider quoted the key back, and the answer blanks it");

        // A workflow sends the secret in a header, fails naming it in a URL, and shapes it into its output.
        var flow = new JsonObject
        {
            ["name"] = "leaky",
            ["steps"] = JsonNode.Parse("""
                [
                  {"id": "call", "activity": {"uniqueIdentifier": "http"}, "input": {"url": "ECHO/ok", "headers": {"Authorization": "Bearer {{ secrets.token }}", "X-Token": "{{ secrets.token }}"}}},
                  {"id": "deny", "activity": {"uniqueIdentifier": "http"}, "dependsOn": ["call"], "onFailure": "continue", "retryPolicy": {"maximumAttempts": 1},
                   "input": {"url": "ECHO/deny/{{ secrets.token }}"}},
                  {"id": "ask", "activity": {"uniqueIdentifier": "llm"}, "dependsOn": ["call"], "onFailure": "continue", "retryPolicy": {"maximumAttempts": 1},
                   "input": {"model": {"provider": "vendor", "model": "any"}, "prompt": "Say hello."}},
                  {"id": "shape", "activity": {"uniqueIdentifier": "transform"}, "dependsOn": ["deny", "ask"], "input": {"direct": "{{ secrets.token }}", "echoed": "{{ steps.call.output.body }}"}},
                  {"id": "fail", "activity": {"uniqueIdentifier": "http"}, "dependsOn": ["shape"], "retryPolicy": {"maximumAttempts": 2, "initialInterval": "100ms"},
                   "input": {"url": "ECHO/deny/again?token={{ secrets.token }}", "headers": {"X-Token": "{{ secrets.token }}"}}}
                ]
                """.Replace("ECHO/", echo.Address.ToString(), StringComparison.Ordinal)),
        };
        await seen.OkAsync(owner.PostJsonAsync($"{w}/workflows", flow));
        var run = await seen.OkAsync(owner.PostJsonAsync($"{w}/workflows/leaky/runs?wait=30s", new { input = new { note = "hello" } }));
        var runId = (string)run["id"]!;
        ((string)run["status"]!).ShouldBe("failed", run.ToJsonString());
        echo.Requests.ShouldContain(r => r.Headers.GetValueOrDefault("X-Token") == secret, "the secret really went out");
        ((string)run["steps"]!.AsArray().Single(step => (string)step!["id"]! == "ask")!["error"]!["message"]!).ShouldContain("Bearer [provider key]");
        echo.Requests.ShouldContain(r => r.Headers.GetValueOrDefault("Authorization") == $"Bearer {providerKey}", "the provider key really went out");

        // Everything the API shows of it, and every export.
        foreach (var path in new[]
                 {
                     $"{w}/runs/{runId}", $"{w}/runs/{runId}/tasks", $"{w}/runs/{runId}/events", $"{w}/runs", $"{w}/secrets", $"{w}/secrets/token",
                     $"{w}/providers", $"{w}/providers/vendor", $"{w}/api-keys", $"{w}/service-accounts", $"{w}/workflows/leaky", $"{w}/workflows/export",
                     $"{w}/workflows/leaky/export?format=yaml", $"{w}/personas/export", $"{w}/personas/export?format=csv", $"{w}/audit",
                     $"{w}/audit/export?format=csv", $"{w}/audit/export?format=ndjson", "/api/v1/admin/audit/export?format=ndjson", "/api/v1/admin/audit/export?format=csv",
                 })
        {
            await seen.OkAsync((path.StartsWith("/api/v1/admin", StringComparison.Ordinal) ? admin : owner).GetAsync(path));
        }

        await seen.OkAsync(browser.GetAsync("/api/v1/me/api-keys"));
        await seen.OkAsync(person.GetAsync($"{w}/runs/{runId}"));
        await seen.StreamAsync(owner, $"{w}/runs/{runId}/stream");

        // Error answers: keys mistyped, mismatched, revoked or sent wrongly; secrets in bodies the server refuses.
        foreach (var (name, value) in new[]
                 {
                     ("Authorization", $"Bearer {serviceKey}x"), ("Authorization", $"Basic {serviceKey}"), ("Authorization", $"Bearer {revokedKey}"),
                     ("X-Api-Key", $"{personalKey[..^1]}"), ("X-Api-Key", $"{adminKey} {serviceKey}"),
                 })
        {
            using var anonymous = server.Client();
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{w}/runs");
            request.Headers.TryAddWithoutValidation(name, value);
            await seen.ProblemAsync(anonymous.SendAsync(request));
        }

        using (var mismatched = new HttpRequestMessage(HttpMethod.Get, $"{w}/runs"))
        {
            mismatched.Headers.Authorization = new AuthenticationHeaderValue("Bearer", serviceKey);
            mismatched.Headers.Add("X-Api-Key", personalKey);
            using var anonymous = server.Client();
            await seen.ProblemAsync(anonymous.SendAsync(mismatched));
        }

        await seen.ProblemAsync(owner.PostJsonAsync($"{w}/secrets", new { name = "bad name!", value = secret }));
        await seen.ProblemAsync(owner.PostJsonAsync($"{w}/secrets", new { name = "other", value = secret, unexpected = 1 }));
        await seen.ProblemAsync(owner.PatchJsonAsync($"{w}/secrets/token", new { value = 5 }));
        await seen.ProblemAsync(owner.PostAsync($"{w}/secrets", new StringContent($"{{\"name\": \"x\", \"value\": \"{secret}\"", Encoding.UTF8, "application/json")));
        await seen.ProblemAsync(owner.PostJsonAsync($"{w}/providers", new { name = "vendor", kind = "openai", apiKey = providerKey }));
        await seen.ProblemAsync(server.Client().PostJsonAsync("/api/v1/auth/login", new { email = "ada@example.com", password = password + "x" }));
        await seen.ProblemAsync(server.Client().PostJsonAsync("/api/v1/auth/login", new { email = password, password }));

        // The canaries: where they may be looked for, in each form they could take.
        var canaries = new Dictionary<string, string>
        {
            ["admin key"] = adminKey, ["service account key"] = serviceKey, ["revoked key"] = revokedKey, ["personal key"] = personalKey,
            ["password"] = password, ["secret"] = secret, ["provider key"] = providerKey,
        };
        var places = new List<(string Place, byte[] Bytes)>(seen.Responses.Select((r, i) => ($"response {i + 1}: {r.What}", Encoding.UTF8.GetBytes(r.Text))))
        {
            ("server output (Debug)", Encoding.UTF8.GetBytes(server.Output)),
        };
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            places.Add(($"file {Path.GetRelativePath(directory, file)}", copy.ToArray()));
        }

        if (postgres is not null)
        {
            places.Add(("PostgreSQL: every row of every table, as text", Encoding.UTF8.GetBytes(await EveryRowAsync(postgres))));
            places.AddRange(await DataFilesAsync(postgres, firstWalSegment!));
        }
        else
        {
            places.ShouldContain(p => p.Place.EndsWith("cadre.db", StringComparison.Ordinal), "the SQLite file was searched");
        }

        // The search looks at live data: the workflow's name and the run's ID are stored where it looks.
        var stored = places.Where(p => !p.Place.StartsWith("response", StringComparison.Ordinal) && !p.Place.StartsWith("server output", StringComparison.Ordinal)).ToList();
        var runBytes = Encoding.UTF8.GetBytes(runId);
        stored.Count(p => p.Bytes.AsSpan().IndexOf(runBytes) >= 0).ShouldBeGreaterThan(0, "the run is in the searched storage");
        if (postgres is not null)
        {
            foreach (var kind in new[] { "PostgreSQL file", "PostgreSQL WAL" })
            {
                stored.Count(p => p.Place.StartsWith(kind, StringComparison.Ordinal) && p.Bytes.AsSpan().IndexOf(runBytes) >= 0).ShouldBeGreaterThan(0, $"the run is in a {kind}");
            }
        }

        var leaks = new List<string>();
        foreach (var (canaryName, canary) in canaries)
        {
            foreach (var (form, bytes) in Forms(canary))
            {
                leaks.AddRange(places.Where(p => p.Bytes.AsSpan().IndexOf(bytes) >= 0).Select(p => $"{canaryName} ({form}) in {p.Place}"));
            }
        }

        // Brute force: random keys from one client until the limiter has answered 429 a good many times.
        var (attempts, unauthorized, throttled) = await GuessKeysAsync(server, BatteryScale.Pick(3_000, 10_000));
        await (await owner.GetAsync(w)).ShouldBeAsync(HttpStatusCode.OK);

        BatteryReport.Write(output, 9, $"keys and secrets, {db.ToString().ToLowerInvariant()}", ("canaries", canaries.Count), ("places searched", places.Count),
            ("bytes searched", places.Sum(p => (long)p.Bytes.Length)), ("leaks", leaks.Count), ("brute-force attempts", attempts), ("401s", unauthorized), ("429s", throttled));
        leaks.ShouldBeEmpty(string.Join('\n', leaks));
        throttled.ShouldBeGreaterThan(0, "guessing keys never hit the rate limiter");
        (unauthorized + throttled).ShouldBe(attempts, "every guess was refused");
    }

    /// <summary>Every row of every table of the database, as PostgreSQL writes it as text (byte arrays in hex).</summary>
    private static async Task<string> EveryRowAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        tables.ShouldNotBeEmpty();
        var text = new StringBuilder();
        foreach (var table in tables)
        {
            await using var select = new NpgsqlCommand($"SELECT t::text FROM {table} t", connection);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.AppendLine(reader.GetString(0));
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// The database's files as the server keeps them on disk, read through the server (superuser's
    /// <c>pg_read_binary_file</c>, so the test needs no access to the cluster's directory): its tables,
    /// indexes and TOAST after a checkpoint (dead row versions included), and the write-ahead log since
    /// <paramref name="firstWalSegment"/>. Values PostgreSQL compresses (TOASTed, over about 2 KiB) are not
    /// in the files verbatim; the rows as text (<see cref="EveryRowAsync"/>) cover those.
    /// </summary>
    private static async Task<List<(string Place, byte[] Bytes)>> DataFilesAsync(string connectionString, string firstWalSegment)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var checkpoint = new NpgsqlCommand("CHECKPOINT", connection))
        {
            await checkpoint.ExecuteNonQueryAsync();
        }

        var files = new List<(string Place, string Path)>();
        await using (var list = new NpgsqlCommand(
            "SELECT 'base/' || d.oid || '/' || f FROM pg_database d, pg_ls_dir('base/' || d.oid) f WHERE d.datname = current_database() " +
            "UNION ALL SELECT 'pg_wal/' || name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' AND name >= @first", connection))
        {
            list.Parameters.AddWithValue("first", firstWalSegment);
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var path = reader.GetString(0);
                files.Add((path.StartsWith("pg_wal/", StringComparison.Ordinal) ? $"PostgreSQL WAL {path}" : $"PostgreSQL file {path}", path));
            }
        }

        var places = new List<(string Place, byte[] Bytes)>();
        foreach (var (place, path) in files)
        {
            await using var read = new NpgsqlCommand("SELECT pg_read_binary_file(@path, 0, s.size, true) FROM pg_stat_file(@path, true) s", connection);
            read.Parameters.AddWithValue("path", path);
            // Missing now (a WAL segment recycled, a relation dropped since the listing): nothing to search.
            if (await read.ExecuteScalarAsync() is byte[] bytes)
            {
                places.Add((place, bytes));
            }
        }

        return places;
    }

    private static async Task<string> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A key's creation answer shows it (once); that answer is the one place it may be, so it is not searched.</summary>
    private static async Task<string> CreationAsync(Task<HttpResponseMessage> sending)
    {
        using var response = await sending;
        await response.ShouldBeAsync(HttpStatusCode.Created);
        var key = (string)(await response.ReadObjectAsync())["key"]!;
        key.ShouldStartWith("cadre_");
        return key;
    }

    private static IEnumerable<(string Form, byte[] Bytes)> Forms(string canary)
    {
        var utf8 = Encoding.UTF8.GetBytes(canary);
        yield return ("text", utf8);
        yield return ("base64", Encoding.ASCII.GetBytes(Convert.ToBase64String(utf8).TrimEnd('=')));
        yield return ("base64url", Encoding.ASCII.GetBytes(Convert.ToBase64String(utf8).TrimEnd('=').Replace('+', '-').Replace('/', '_')));
        yield return ("hex", Encoding.ASCII.GetBytes(Convert.ToHexStringLower(utf8)));
        yield return ("HEX", Encoding.ASCII.GetBytes(Convert.ToHexString(utf8)));
        yield return ("UTF-16", Encoding.Unicode.GetBytes(canary));
    }

    private static async Task<(int Attempts, int Unauthorized, int Throttled)> GuessKeysAsync(ServerProcess server, int maximum)
    {
        using var client = server.Client();
        int attempts = 0, unauthorized = 0, throttled = 0, other = 0;
        // Reduced: until the limiter has clearly engaged. Full: the whole budget, to see it hold.
        var throttledEnough = BatteryScale.Pick(200, maximum);
        var workers = Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref attempts) <= maximum && Volatile.Read(ref throttled) < throttledEnough)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/workspaces/keys");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "cadre_" + System.Security.Cryptography.RandomNumberGenerator.GetString(
                    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 43));
                using var response = await client.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.TooManyRequests && response.Headers.RetryAfter is not null)
                {
                    Interlocked.Increment(ref throttled);
                }
                else if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    Interlocked.Increment(ref unauthorized);
                }
                else
                {
                    Interlocked.Increment(ref other);
                }
            }
        });
        await Task.WhenAll(workers);
        other.ShouldBe(0, "a guess got an answer other than 401 or 429 (with Retry-After)");
        return (unauthorized + throttled, unauthorized, throttled);
    }

    /// <summary>Every response the test collected (bodies and headers), to be searched at the end.</summary>
    private sealed class Seen
    {
        public List<(string What, string Text)> Responses { get; } = [];

        public async Task<JsonObject> OkAsync(Task<HttpResponseMessage> sending)
        {
            using var response = await sending;
            var text = await KeepAsync(response);
            ((int)response.StatusCode).ShouldBeInRange(200, 299, text);
            return response.Content.Headers.ContentType?.MediaType == "application/json" && text.StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : [];
        }

        public async Task ProblemAsync(Task<HttpResponseMessage> sending)
        {
            using var response = await sending;
            var text = await KeepAsync(response);
            ((int)response.StatusCode).ShouldBeInRange(400, 499, text);
        }

        public async Task StreamAsync(HttpClient client, string path)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var text = new StringBuilder();
            try
            {
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
                while (await reader.ReadLineAsync(timeout.Token) is { } line)
                {
                    text.AppendLine(line);
                }
            }
            catch (OperationCanceledException)
            {
                // The stream of a finished run may stay open: what came is what is searched.
            }

            text.ToString().ShouldContain("id:");
            Responses.Add(($"GET {path}", response.Headers + text.ToString()));
        }

        private async Task<string> KeepAsync(HttpResponseMessage response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Responses.Add(($"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri!.PathAndQuery} → {(int)response.StatusCode}",
                response.Headers.ToString() + response.Content.Headers + text));
            return text;
        }
    }
}
