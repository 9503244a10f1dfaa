/* Embeds the page's JSON-LD representation in <head> for search engines (what pygeoapi's _base.html did inline;
   a static file, so that a Content-Security-Policy can forbid inline script). The text goes in as textContent. */
(function () {
  'use strict';
  var path = window.location.protocol + '//' + window.location.host + window.location.pathname + '?f=jsonld';
  fetch(path, {credentials: 'same-origin'}).then(function (response) {
    if (response.status !== 200) return null;
    return response.text();
  }).then(function (text) {
    if (text === null) return;
    var block = document.createElement('script');
    block.type = 'application/ld+json';
    // pyld needs the full context path; search engines do not expect it.
    block.textContent = text.replace('docs/jsonldcontext.jsonld', '');
    document.head.appendChild(block);
  }).catch(function () { /* the page works without it */ });
}());
