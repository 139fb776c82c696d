#!/usr/bin/env python3
"""Write a SEDA 2.2 SIP of N tiny JSON objects with a terse manifest (about 535 bytes an object:
no FileInfo, no format, one group and one unit per object), the shape that puts the most objects
under verify's 256 MiB manifest limit. For bench/verify-memory.sh (SHAPE=terse).

    bench/mkterse.py OUT.zip N
"""
import hashlib
import sys
import zipfile


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2">'
                 '<Date>2025-01-01T00:00:00</Date><MessageIdentifier>TERSE</MessageIdentifier><CodeListVersions/><DataObjectPackage>\n']
        for i in range(n):
            data = b'{"id":%d}' % i
            z.writestr("Content/%d.json" % i, data)
            parts.append('<DataObjectGroup id="G%d"><BinaryDataObject id="B%d"><DataObjectVersion>BinaryMaster_1</DataObjectVersion>'
                         '<Uri>Content/%d.json</Uri><MessageDigest algorithm="SHA-256">%s</MessageDigest><Size>%d</Size>'
                         '</BinaryDataObject></DataObjectGroup>\n' % (i, i, i, hashlib.sha256(data).hexdigest(), len(data)))
        parts.append('<DescriptiveMetadata><ArchiveUnit id="R"><Content><DescriptionLevel>Series</DescriptionLevel><Title>t</Title></Content>\n')
        for i in range(n):
            parts.append('<ArchiveUnit id="U%d"><Content><DescriptionLevel>File</DescriptionLevel><Title>t</Title></Content>'
                         '<DataObjectReference><DataObjectGroupReferenceId>G%d</DataObjectGroupReferenceId></DataObjectReference>'
                         '</ArchiveUnit>\n' % (i, i))
        parts.append('</ArchiveUnit></DescriptiveMetadata><ManagementMetadata/></DataObjectPackage><ArchivalAgency><Identifier>A</Identifier>'
                     '</ArchivalAgency><TransferringAgency><Identifier>T</Identifier></TransferringAgency></ArchiveTransfer>\n')
        z.writestr("manifest.xml", "".join(parts).encode())


if __name__ == "__main__":
    main()
