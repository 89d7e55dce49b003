"""Unseal every SealedSecret in a YAML stream with kubesealpy (an independent implementation).

usage: unseal.py PRIVATE_KEY.pem RENDERED.yaml -> prints `<namespace>/<name> <key>=<value>` lines;
scope comes from the SealedSecret's own annotations, name and namespace from its metadata.
"""
import base64, sys
import yaml
from kubesealpy.models import SealedSecret
from kubesealpy.unsealer import Unsealer

unsealer = Unsealer.from_private_key_file(sys.argv[1])
with open(sys.argv[2]) as f:
    docs = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "SealedSecret"]
if not docs:
    sys.exit("no SealedSecret in " + sys.argv[2])
for doc in docs:
    secret = unsealer.unseal(SealedSecret.from_yaml(yaml.safe_dump(doc)))
    for key, value in sorted(secret.data.items()):
        print(f"{doc['metadata']['namespace']}/{doc['metadata']['name']} {key}={base64.b64decode(value).decode()}")
