using Cadre.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Http;

/// <summary>The <c>from</c> and <c>to</c> query parameters of a diff between two versions.</summary>
internal static class VersionRange
{
    /// <summary>A 400 naming what is missing, or null when both versions are given.</summary>
    public static ProblemHttpResult? Check(int? from, int? to)
    {
        if (from is not null && to is not null)
        {
            return null;
        }

        var errors = new ValidationErrors();
        if (from is null)
        {
            errors.Add("from", "Is required: a version number.");
        }

        if (to is null)
        {
            errors.Add("to", "Is required: a version number.");
        }

        return Problems.BadQuery(errors.ToDictionary());
    }
}
