using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// Reads and rewrites the entries of a saved ML.NET model (a zip) for the corruption tests. A model entry ("Model.key")
/// starts with ML.NET's 256-byte header (model block at FpModel = 256 of length CbModel at 0x18, model signature at 0x40,
/// written and readable versions at 0x48 and 0x4C, then string table, assembly name and tail whose offsets follow the
/// block); the KARE block inside it is: int sizeof(float); long b; byte[b] fields; byte[32] SHA-256; and, for
/// multiclass models, double temperature.
/// </summary>
internal static class ModelZip
{
    public const int HeaderSize = 256;
    public const int DigestSize = 32;

    private const int CbModelOffset = 0x18;
    private const int ModelSignatureOffset = 0x40;
    private const int VersionWrittenOffset = 0x48;
    private const int VersionReadableOffset = 0x4C;

    /// <summary>The offsets (from the header's start) of the blocks after the model block: string table, string characters, tail, end, assembly name.</summary>
    private static readonly int[] TrailingOffsetFields = { 0x20, 0x30, 0x80, 0x88, 0x90 };

    public static List<(string Name, byte[] Data)> ReadEntries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip, writable: false), ZipArchiveMode.Read);
        var entries = new List<(string, byte[])>();
        foreach (ZipArchiveEntry entry in archive.Entries)
        {
            using Stream source = entry.Open();
            using var copy = new MemoryStream();
            source.CopyTo(copy);
            entries.Add((entry.FullName, copy.ToArray()));
        }
        return entries;
    }

    /// <summary>A zip of the entries, in order (valid CRCs: corruption inside an entry is invisible to the zip layer).</summary>
    public static byte[] WriteEntries(IEnumerable<(string Name, byte[] Data)> entries)
    {
        using var memory = new MemoryStream();
        using (var archive = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using Stream target = archive.CreateEntry(name, CompressionLevel.Optimal).Open();
                target.Write(data);
            }
        }
        return memory.ToArray();
    }

    /// <summary>Replaces the entry whose name ends with <paramref name="nameEnd"/> (exactly one) by <paramref name="rewrite"/> of its bytes.</summary>
    public static byte[] RewriteEntry(byte[] zip, Func<string, byte[], bool> select, Func<byte[], byte[]> rewrite)
    {
        var entries = ReadEntries(zip);
        int index = entries.FindIndex(e => select(e.Name, e.Data));
        if (index < 0 || entries.FindIndex(index + 1, e => select(e.Name, e.Data)) >= 0)
            throw new InvalidOperationException("Expected exactly one matching entry.");
        entries[index] = (entries[index].Name, rewrite(entries[index].Data));
        return WriteEntries(entries);
    }

    /// <summary>True for the "Model.key" entry of the model with the 8-character ML.NET signature (for example "KAREREGR").</summary>
    public static bool IsModelEntry(string name, byte[] data, string signature)
        => name.EndsWith("Model.key", StringComparison.Ordinal) && data.Length >= HeaderSize
           && Encoding.ASCII.GetString(data, ModelSignatureOffset, 8) == signature;

    public static byte[] RewriteKareModelEntry(byte[] zip, string signature, Func<byte[], byte[]> rewrite)
        => RewriteEntry(zip, (name, data) => IsModelEntry(name, data, signature), rewrite);

    public static byte[] RewriteStream(byte[] zip, string streamName, Func<byte[], byte[]> rewrite)
        => RewriteEntry(zip, (name, _) => name.EndsWith("/" + streamName, StringComparison.Ordinal), rewrite);

    public static uint VersionWritten(byte[] entry) => BitConverter.ToUInt32(entry, VersionWrittenOffset);

    public static void SetVersions(byte[] entry, uint written, uint readable)
    {
        BitConverter.TryWriteBytes(entry.AsSpan(VersionWrittenOffset), written);
        BitConverter.TryWriteBytes(entry.AsSpan(VersionReadableOffset), readable);
    }

    /// <summary>
    /// Replaces the model block of a model entry by <paramref name="rewrite"/> of it and moves what follows (string
    /// table, assembly name, tail), fixing the header's size and offsets.
    /// </summary>
    public static byte[] RewriteModelBlock(byte[] entry, Func<byte[], byte[]> rewrite)
    {
        long length = BitConverter.ToInt64(entry, CbModelOffset);
        byte[] block = entry.AsSpan(HeaderSize, (int)length).ToArray();
        byte[] replaced = rewrite(block);
        long delta = replaced.Length - length;
        byte[] result = entry.Take(HeaderSize).Concat(replaced).Concat(entry.Skip(HeaderSize + (int)length)).ToArray();
        BitConverter.TryWriteBytes(result.AsSpan(CbModelOffset), length + delta);
        foreach (int field in TrailingOffsetFields)
        {
            long offset = BitConverter.ToInt64(result, field);
            if (offset > HeaderSize)
                BitConverter.TryWriteBytes(result.AsSpan(field), offset + delta);
        }
        return result;
    }

    /// <summary>The KARE fields (from d through the network count, and the compression scales from 0x00010007 on) of a model block of version 0x00010003 or later.</summary>
    public static byte[] Fields(byte[] block) => block.AsSpan(12, (int)BitConverter.ToInt64(block, 4)).ToArray();

    /// <summary>A model block (version 0x00010003 or later) with its fields replaced and their digest recomputed.</summary>
    public static byte[] WithFields(byte[] block, byte[] fields)
    {
        int oldLength = (int)BitConverter.ToInt64(block, 4);
        byte[] rest = block.Skip(12 + oldLength + DigestSize).ToArray();
        return block.Take(4).Concat(BitConverter.GetBytes((long)fields.Length)).Concat(fields).Concat(SHA256.HashData(fields)).Concat(rest).ToArray();
    }

    /// <summary>A version-0x00010003 vector stream (long n; double[n]; SHA-256) with its digest recomputed.</summary>
    public static byte[] ResealVector(byte[] stream)
    {
        byte[] body = stream.AsSpan(0, stream.Length - DigestSize).ToArray();
        return body.Concat(SHA256.HashData(body)).ToArray();
    }

    /// <summary>
    /// Rewrites a saved one-network model without normal scores or compressed features in an older KARE layout:
    /// 0x00010007 (no normal score count), 0x00010006 (regression: no compression scales either), 0x00010005 (no
    /// prediction interval either), 0x00010003 (digests, no network count), 0x00010002 (method, no digests) or 0x00010001
    /// (no method either). The current fields end with the method, the network count, the d compression scales and the
    /// number of normal scores (0 here).
    /// </summary>
    public static byte[] Downgrade(byte[] zip, string signature, uint version)
    {
        if (version is not (0x00010001 or 0x00010002 or 0x00010003 or 0x00010005 or 0x00010007 or 0x00010008) && !(version == 0x00010006 && signature == "KAREREGR"))
            throw new ArgumentOutOfRangeException(nameof(version));
        zip = RewriteKareModelEntry(zip, signature, entry =>
        {
            byte[] result = RewriteModelBlock(entry, block =>
            {
                // Before version 0x00010009 the fields end with the normal scores: the input range flag goes.
                byte[] withRange = Fields(block);
                if (BitConverter.ToInt32(withRange, withRange.Length - 4) != 0)
                    throw new ArgumentException("Only a model without an input range has an older layout.", nameof(zip));
                block = WithFields(block, withRange.AsSpan(0, withRange.Length - 4).ToArray());
                if (version == 0x00010008)
                    return block;
                // Before version 0x00010008 the fields end with the compression scales: the normal score count goes.
                byte[] withScores = Fields(block);
                if (BitConverter.ToInt32(withScores, withScores.Length - 4) != 0)
                    throw new ArgumentException("Only a model without normal scores has an older layout.", nameof(zip));
                block = WithFields(block, withScores.AsSpan(0, withScores.Length - 4).ToArray());
                if (version == 0x00010007)
                    return block;
                // Before version 0x00010007 the fields end with the network count: the compression scales go.
                byte[] current = Fields(block);
                int compressionBytes = 8 * BitConverter.ToInt32(current, 0);
                if (current.Skip(current.Length - compressionBytes).Any(b => b != 0))
                    throw new ArgumentException("Only a model without compressed features has an older layout.", nameof(zip));
                block = WithFields(block, current.AsSpan(0, current.Length - compressionBytes).ToArray());
                if (version == 0x00010006)
                    return block;
                // Before version 0x00010006 nothing follows the regression model's fields digest (its interval block goes).
                if (signature == "KAREREGR")
                    block = block.AsSpan(0, 12 + (int)BitConverter.ToInt64(block, 4) + DigestSize).ToArray();
                if (version == 0x00010005)
                    return block;
                byte[] fields = Fields(block);
                if (BitConverter.ToInt32(fields, fields.Length - 4) != 1)
                    throw new ArgumentException("Only a one-network model has an older layout.", nameof(zip));
                fields = fields.AsSpan(0, fields.Length - (version == 0x00010001 ? 8 : 4)).ToArray();
                if (version == 0x00010003)
                    return WithFields(block, fields);
                byte[] rest = block.Skip(12 + (int)BitConverter.ToInt64(block, 4) + DigestSize).ToArray();
                return block.Take(4).Concat(fields).Concat(rest).ToArray();
            });
            SetVersions(result, version, version);
            return result;
        });
        if (version is 0x00010003 or 0x00010005 or 0x00010006 or 0x00010007 or 0x00010008)
            return zip;
        foreach (string stream in new[] { KarePrimalModel.NetworkParametersStreamName, KarePrimalModel.PrimalWeightsStreamName })
            zip = RewriteStream(zip, stream, data => data.AsSpan(0, data.Length - DigestSize).ToArray());
        return zip;
    }
}
