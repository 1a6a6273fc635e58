"""Files published at HTTPS addresses (the FINESS open-data extracts): size and date from a HEAD request,
downloads resumed with a Range request from the partial file's size."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from relais_fetcher.adapters.sftp_source import IncompleteDownload
from relais_fetcher.ports import RemoteFile


def _name(url: str, response: httpx.Response) -> str:
    disposition = response.headers.get("content-disposition", "")
    if "filename=" in disposition:
        return str(disposition.split("filename=", 1)[1]).strip().strip('"')
    return unquote(Path(urlparse(str(response.url)).path).name)


class HttpFileSource:
    def __init__(self, urls: list[str], timeout_s: float = 60.0, verify: bool | str = True) -> None:
        self._urls = urls
        self._timeout = timeout_s
        self._verify = verify

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout, follow_redirects=True, verify=self._verify)

    async def list_files(self) -> list[RemoteFile]:
        files = []
        async with self._client() as client:
            for url in self._urls:
                response = await client.head(url)
                response.raise_for_status()
                modified = response.headers.get("last-modified")
                files.append(
                    RemoteFile(
                        name=_name(url, response),
                        path=str(response.url),
                        size=int(response.headers.get("content-length", 0)),
                        mtime=int(parsedate_to_datetime(modified).timestamp()) if modified else 0,
                    )
                )
        return files

    async def download(self, remote: RemoteFile, partial: Path) -> None:
        partial.parent.mkdir(parents=True, exist_ok=True)
        offset = partial.stat().st_size if partial.exists() else 0
        if remote.size and offset >= remote.size:
            partial.unlink(missing_ok=True)
            offset = 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        async with self._client() as client, client.stream("GET", remote.path, headers=headers) as response:
            response.raise_for_status()
            if offset and response.status_code != httpx.codes.PARTIAL_CONTENT:
                offset = 0  # the server ignored the range: start again
            with partial.open("ab" if offset else "wb") as target:
                async for chunk in response.aiter_bytes(1 << 20):
                    target.write(chunk)
        if remote.size and partial.stat().st_size != remote.size:
            raise IncompleteDownload(
                f"{remote.path}: {partial.stat().st_size} octets reçus sur {remote.size} annoncés"
            )
